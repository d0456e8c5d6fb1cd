// Shared helpers of the Imaging tests: fixture paths, the fixture patterns, scratch directories.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Imaging

/// Fixtures live next to this file (loaded by path, not as SwiftPM resources).
enum Fixtures {
    static let directory: String = {
        let file = #filePath
        let folder = file[..<file.lastIndex(of: "/")!]
        return folder + "/Fixtures"
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    static func bytes(_ name: String) -> [UInt8] { readBytes(path(name)) }
}

/// The patterns the decoding fixtures hold (mirrors make_fixtures.py).
enum Patterns {
    static let width = 13
    static let height = 9

    static func rgb(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        (UInt8((x * 19 + y * 7) % 256), UInt8((x * 5 + y * 31 + 40) % 256), UInt8((x * x + y * 3) % 256))
    }

    static func gray(_ x: Int, _ y: Int) -> UInt8 { UInt8((x * 19 + y * 23) % 256) }

    static func alpha(_ x: Int, _ y: Int) -> UInt8 { UInt8((x * y * 11 + 3 * x) % 256) }

    static let palette: [(UInt8, UInt8, UInt8)] = (0..<16).map { (i: Int) -> (UInt8, UInt8, UInt8) in
        let r = (i * 37) % 256, g = (i * 91 + 7) % 256, b = (255 - i * 13) % 256
        return (UInt8(r), UInt8(g), UInt8(b))
    }

    static func paletteIndex(_ x: Int, _ y: Int) -> Int { (x + 2 * y) % 16 }

    /// An RGB image of the pattern.
    static func rgbImage(width: Int = width, height: Int = height) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = rgb(x, y)
                image[x, y] = (r, g, b)
            }
        }
        return image
    }
}

/// The whole file at `path` (the test fails loudly if it cannot be read).
func readBytes(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n == 0 { break }
        bytes.append(contentsOf: chunk[..<n])
    }
    return bytes
}

func writeBytes(_ bytes: [UInt8], to path: String) {
    guard let file = fopen(path, "wb") else { fatalError("cannot create \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// A fresh directory under /tmp, removed with its contents by `remove()`.
struct ScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/imaging-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Names of the entries in the directory (or in `sub`), sorted.
    func entries(_ sub: String? = nil) -> [String] {
        let folder = sub.map { path + "/" + $0 } ?? path
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func remove() { removeTree(path) }

    private func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o755)
            if let dir = opendir(path) {
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(dir)
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// The largest absolute difference between two byte arrays of equal length.
func maxAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count)
    var worst = 0
    for i in a.indices { worst = max(worst, abs(Int(a[i]) - Int(b[i]))) }
    return worst
}

/// Runs `body`, returning the ImageError it throws (nil if it throws none).
func imageError(_ body: () throws -> Void) -> ImageError? {
    do {
        try body()
        return nil
    } catch let error as ImageError {
        return error
    } catch {
        return nil
    }
}
