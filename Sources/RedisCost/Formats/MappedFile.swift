#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole file: readers walk its bytes without copying, and
/// the kernel pages them in and out, so a many-gigabyte AOF costs no heap.
public final class MappedFile {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    public struct OpenError: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var detail: String
        public var description: String { "\(path): \(detail)" }
    }

    public init(path: String) throws(OpenError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw OpenError(path: path, detail: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OpenError(path: path, detail: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw OpenError(path: path, detail: "not a regular file") }
        let size = Int(info.st_size)
        if size == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw OpenError(path: path, detail: "cannot map: \(String(cString: strerror(errno)))")
        }
        // We read front to back once.
        madvise(pointer, size, MADV_SEQUENTIAL)
        mapping = pointer
        bytes = UnsafeRawBufferPointer(start: pointer, count: size)
    }

    /// Drops the resident pages before `offset` (they are clean: reading them again would
    /// just page them back in from the file).
    public func release(upTo offset: Int) {
        guard let mapping else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = (min(offset, bytes.count) / page) * page
        if length > 0 { madvise(mapping, length, MADV_DONTNEED) }
    }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }
}
