#if canImport(Glibc)
import Glibc
#endif
import RedisCostCore
import RedisCostKeyspace

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
        let (fd, size) = try Self.openRegularFile(path)
        defer { close(fd) }
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

    /// Opens a file for reading, and only a regular file: a FIFO would block the open until
    /// a writer came (a manifest naming one hung the tool), a device or a socket has no
    /// end. O_NONBLOCK keeps the open itself from waiting; the type is checked on what was
    /// opened, so a file swapped after a look at its name is checked too.
    package static func openRegularFile(_ path: String) throws(OpenError) -> (fd: Int32, size: Int) {
        var info = stat()
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            // A socket cannot be opened at all (ENXIO): say what it is rather than why.
            let reason = String(cString: strerror(errno))
            if stat(path, &info) == 0, let kind = kind(info.st_mode) { throw OpenError(path: path, detail: "\(kind), not a regular file") }
            throw OpenError(path: path, detail: "cannot open: \(reason)")
        }
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw OpenError(path: path, detail: "cannot stat: \(reason)")
        }
        if let kind = kind(info.st_mode) {
            close(fd)
            throw OpenError(path: path, detail: "\(kind), not a regular file")
        }
        return (fd, Int(info.st_size))
    }

    /// What a file that is not a regular file is; nil for a regular file.
    private static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a file"
        }
    }

    /// The first `count` bytes of a regular file (or fewer, if it is shorter): what detection looks at.
    public static func head(of path: String, count: Int) throws(OpenError) -> [UInt8] {
        let (fd, _) = try openRegularFile(path)
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(head.prefix(filled))
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
