// Crop + resize in one step with a separable, antialiased filter, computed as Pillow computes
// `image.crop(box).resize(size, BICUBIC or BILINEAR)` for 8-bit images:
//
// - per output sample along an axis, the filter is centred at `(i + 0.5) · scale` in the input,
//   and when shrinking (`scale = in / out > 1`) it is stretched by `scale` (its support grows, so
//   every input pixel contributes: antialiasing);
// - the weights are normalised to sum 1, then rounded to 22-bit fixed point;
// - one pass rounds to 8 bits, then the other runs; a pass whose size does not change is skipped;
// - the order is Pillow 13's: vertical first when the height shrinks by more than twice as many
//   pixels as the width does, otherwise horizontal first. Pillow 12 and older always run the
//   horizontal pass first, so they give the same bytes whenever the rule picks horizontal first,
//   which includes every square crop resized to a square (model input).
//
// Weights are computed once in `Resampler.init`; `resample` allocates nothing.

/// The interpolation filter of a resize.
public enum ResampleFilter: String, Sendable, CaseIterable {
    /// Triangle filter (support 1), antialiased when shrinking: Pillow's `BILINEAR`.
    case bilinear
    /// Keys cubic with a = −0.5 (support 2), antialiased when shrinking: Pillow's `BICUBIC`.
    case bicubic

    /// Half-width of the filter at scale 1, in input pixels.
    public var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// The filter's value at distance `x` (in input pixels at scale 1).
    public func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Fixed-point weights for one axis: output sample `i` is
/// `Σ_{t < count[i]} input[first[i] + t] · weights[i · taps + t]`, scaled by 2^22.
struct AxisWeights: Sendable {
    static let precisionBits: Int32 = 22
    static let half: Int32 = 1 << (precisionBits - 1)

    let inputSize: Int
    let outputSize: Int
    let taps: Int
    var first: [Int32]
    var count: [Int32]
    var weights: [Int32]

    var isIdentity: Bool { inputSize == outputSize }

    init(inputSize: Int, outputSize: Int, filter: ResampleFilter) {
        precondition(inputSize > 0 && outputSize > 0, "resampling needs positive sizes")
        self.inputSize = inputSize
        self.outputSize = outputSize
        let scale = Double(inputSize) / Double(outputSize)
        let stretch = max(scale, 1)
        let support = filter.support * stretch
        let taps = Int(support.rounded(.up)) * 2 + 1
        self.taps = taps
        first = [Int32](repeating: 0, count: outputSize)
        count = [Int32](repeating: 0, count: outputSize)
        weights = [Int32](repeating: 0, count: outputSize * taps)

        var exact = [Double](repeating: 0, count: taps)
        for i in 0..<outputSize {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inputSize)
            let n = max(hi - lo, 0)
            var sum = 0.0
            let inverseStretch = 1 / stretch
            for t in 0..<n {
                let w = filter.weight((Double(t + lo) - center + 0.5) * inverseStretch)
                exact[t] = w
                sum += w
            }
            for t in 0..<n {
                let w = sum != 0 ? exact[t] / sum : exact[t]
                let scaled = w * Double(1 << Int(AxisWeights.precisionBits))
                weights[i * taps + t] = Int32(scaled < 0 ? scaled - 0.5 : scaled + 0.5)
            }
            first[i] = Int32(lo)
            count[i] = Int32(n)
        }
    }

    /// The input range `[lower, upper)` the outputs read.
    var inputSpan: (lower: Int, upper: Int) {
        (Int(first[0]), Int(first[outputSize - 1] + count[outputSize - 1]))
    }
}

/// Resamples a crop of `sourceWidth × sourceHeight` interleaved 8-bit images to
/// `outputWidth × outputHeight`. For RGB the result is byte for byte Pillow 13's
/// `image.crop(crop).resize(output, filter)`. Channels are filtered independently (Pillow
/// premultiplies RGBA by alpha first; this does not).
///
/// Make one per frame geometry (at model load) and call `resample` per frame: it allocates nothing.
/// A value type; give each thread its own copy.
public struct Resampler: Sendable {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let crop: PixelRect
    public let outputWidth: Int
    public let outputHeight: Int
    public let filter: ResampleFilter
    /// Interleaved bytes per pixel, 1 to 4.
    public let channels: Int

    private let horizontal: AxisWeights
    private var vertical: AxisWeights
    /// Both passes run, the vertical one first (see the file comment).
    private let verticalFirst: Bool
    /// Crop rows the horizontal pass computes when both passes run, horizontal first.
    private let bandStart: Int
    private let bandRows: Int
    private var band: [UInt8]
    private var accumulator: [Int32]

    /// Plans a resampling.
    /// - Parameters:
    ///   - sourceWidth: source columns.
    ///   - sourceHeight: source rows.
    ///   - crop: the part of the source to resample, inside it; nil for the whole source.
    ///   - outputWidth: output columns, > 0.
    ///   - outputHeight: output rows, > 0.
    ///   - filter: the interpolation filter.
    ///   - channels: interleaved bytes per pixel (3 for `RGBImage`, 4 for `RGBAImage`).
    public init(sourceWidth: Int, sourceHeight: Int, crop: PixelRect? = nil,
                outputWidth: Int, outputHeight: Int, filter: ResampleFilter = .bicubic, channels: Int = 3) {
        let crop = crop ?? PixelRect(x: 0, y: 0, width: sourceWidth, height: sourceHeight)
        precondition(crop.fits(width: sourceWidth, height: sourceHeight),
                     "crop \(crop) is not inside the \(sourceWidth)×\(sourceHeight) source")
        precondition(outputWidth > 0 && outputHeight > 0, "output size \(outputWidth)×\(outputHeight) is empty")
        precondition((1...4).contains(channels), "resampling takes 1 to 4 channels, not \(channels)")
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.crop = crop
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.filter = filter
        self.channels = channels
        horizontal = AxisWeights(inputSize: crop.width, outputSize: outputWidth, filter: filter)
        vertical = AxisWeights(inputSize: crop.height, outputSize: outputHeight, filter: filter)

        let shrinkX = crop.width - outputWidth, shrinkY = crop.height - outputHeight
        verticalFirst = !horizontal.isIdentity && !vertical.isIdentity && shrinkY > 0 && shrinkY > 2 * shrinkX
        if verticalFirst {
            // The band holds the vertically filtered crop: outputHeight rows of the crop's width.
            bandStart = 0
            bandRows = outputHeight
            band = [UInt8](repeating: 0, count: outputHeight * crop.width * channels)
        } else if !horizontal.isIdentity && !vertical.isIdentity {
            // The band holds the horizontally filtered rows that the vertical pass reads.
            let span = vertical.inputSpan
            bandStart = span.lower
            bandRows = span.upper - span.lower
            for i in vertical.first.indices { vertical.first[i] -= Int32(bandStart) }
            band = [UInt8](repeating: 0, count: bandRows * outputWidth * channels)
        } else {
            bandStart = 0
            bandRows = 0
            band = []
        }
        let verticalRowLength = (verticalFirst ? crop.width : outputWidth) * channels
        accumulator = vertical.isIdentity ? [] : [Int32](repeating: 0, count: verticalRowLength)
    }

    /// Resamples one image.
    /// - Parameters:
    ///   - source: `sourceHeight` rows of at least `sourceWidth * channels` bytes.
    ///   - sourceRowBytes: distance between source rows; default `sourceWidth * channels`.
    ///   - output: receives `outputHeight` rows of `outputWidth * channels` bytes.
    ///   - outputRowBytes: distance between output rows; default `outputWidth * channels`.
    public mutating func resample(_ source: UnsafePointer<UInt8>, sourceRowBytes: Int? = nil,
                                  into output: UnsafeMutablePointer<UInt8>, outputRowBytes: Int? = nil) {
        let sourceStride = sourceRowBytes ?? sourceWidth * channels
        let outputStride = outputRowBytes ?? outputWidth * channels
        precondition(sourceStride >= sourceWidth * channels && outputStride >= outputWidth * channels,
                     "row strides shorter than a row")
        let origin = source + crop.y * sourceStride + crop.x * channels

        // Take the scratch buffers out of `self` for the duration (a move, not a copy).
        var band = self.band, accumulator = self.accumulator
        self.band = []
        self.accumulator = []
        defer {
            self.band = band
            self.accumulator = accumulator
        }

        switch (horizontal.isIdentity, vertical.isIdentity) {
        case (true, true):
            let rowBytes = outputWidth * channels
            for y in 0..<outputHeight {
                (output + y * outputStride).update(from: origin + y * sourceStride, count: rowBytes)
            }
        case (false, true):
            horizontalPass(origin, sourceStride: sourceStride, rows: outputHeight, into: output, outputStride: outputStride)
        case (true, false):
            accumulator.withUnsafeMutableBufferPointer { sums in
                verticalPass(origin, sourceStride: sourceStride, rowLength: outputWidth * channels,
                             into: output, outputStride: outputStride, sums: sums.baseAddress!)
            }
        case (false, false) where verticalFirst:
            let bandStride = crop.width * channels
            band.withUnsafeMutableBufferPointer { band in
                accumulator.withUnsafeMutableBufferPointer { sums in
                    verticalPass(origin, sourceStride: sourceStride, rowLength: bandStride,
                                 into: band.baseAddress!, outputStride: bandStride, sums: sums.baseAddress!)
                }
            }
            band.withUnsafeBufferPointer { band in
                horizontalPass(band.baseAddress!, sourceStride: bandStride, rows: outputHeight,
                               into: output, outputStride: outputStride)
            }
        case (false, false):
            let bandStride = outputWidth * channels
            band.withUnsafeMutableBufferPointer { band in
                horizontalPass(origin + bandStart * sourceStride, sourceStride: sourceStride, rows: bandRows,
                               into: band.baseAddress!, outputStride: bandStride)
            }
            band.withUnsafeBufferPointer { band in
                accumulator.withUnsafeMutableBufferPointer { sums in
                    verticalPass(band.baseAddress!, sourceStride: bandStride, rowLength: bandStride,
                                 into: output, outputStride: outputStride, sums: sums.baseAddress!)
                }
            }
        }
    }

    /// Resamples `image` into `output`, reshaping `output` to the output size (its storage is
    /// reused when it already has that size).
    public mutating func resample(_ image: RGBImage, into output: inout RGBImage) {
        precondition(channels == 3, "this resampler was planned for \(channels) channels, not RGB")
        precondition(image.width == sourceWidth && image.height == sourceHeight,
                     "image is \(image.width)×\(image.height), the resampler expects \(sourceWidth)×\(sourceHeight)")
        output.reshape(width: outputWidth, height: outputHeight)
        image.pixels.withUnsafeBufferPointer { src in
            output.pixels.withUnsafeMutableBufferPointer { dst in
                resample(src.baseAddress!, into: dst.baseAddress!)
            }
        }
    }

    /// Resamples `image` into `output`, reshaping `output` to the output size.
    public mutating func resample(_ image: RGBAImage, into output: inout RGBAImage) {
        precondition(channels == 4, "this resampler was planned for \(channels) channels, not RGBA")
        precondition(image.width == sourceWidth && image.height == sourceHeight,
                     "image is \(image.width)×\(image.height), the resampler expects \(sourceWidth)×\(sourceHeight)")
        output.reshape(width: outputWidth, height: outputHeight)
        image.pixels.withUnsafeBufferPointer { src in
            output.pixels.withUnsafeMutableBufferPointer { dst in
                resample(src.baseAddress!, into: dst.baseAddress!)
            }
        }
    }

    // MARK: - Passes

    /// Filters `rows` rows horizontally; `source` points at the crop's left column.
    private func horizontalPass(_ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
                                into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        horizontal.first.withUnsafeBufferPointer { first in
            horizontal.count.withUnsafeBufferPointer { count in
                horizontal.weights.withUnsafeBufferPointer { weights in
                    let plan = HorizontalPlan(first: first.baseAddress!, count: count.baseAddress!,
                                              weights: weights.baseAddress!, taps: horizontal.taps,
                                              outputWidth: outputWidth)
                    switch channels {
                    case 3: plan.run3(source, sourceStride: sourceStride, rows: rows, into: output, outputStride: outputStride)
                    case 4: plan.run4(source, sourceStride: sourceStride, rows: rows, into: output, outputStride: outputStride)
                    default:
                        plan.runAny(channels: channels, source, sourceStride: sourceStride, rows: rows,
                                    into: output, outputStride: outputStride)
                    }
                }
            }
        }
    }

    /// Filters vertically into `outputHeight` rows of `rowLength` bytes; `source` points at the
    /// row `vertical.first` counts from, at the crop's left column; `sums` holds `rowLength` values.
    private func verticalPass(_ source: UnsafePointer<UInt8>, sourceStride: Int, rowLength: Int,
                              into output: UnsafeMutablePointer<UInt8>, outputStride: Int,
                              sums: UnsafeMutablePointer<Int32>) {
        let taps = vertical.taps
        let half = AxisWeights.half
        let shift = AxisWeights.precisionBits
        vertical.first.withUnsafeBufferPointer { first in
            vertical.count.withUnsafeBufferPointer { count in
                vertical.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<outputHeight {
                        sums.update(repeating: half, count: rowLength)
                        let start = Int(first[y])
                        let k = weights.baseAddress! + y * taps
                        for t in 0..<Int(count[y]) {
                            let row = source + (start + t) * sourceStride
                            let w = k[t]
                            for j in 0..<rowLength {
                                sums[j] &+= Int32(row[j]) &* w
                            }
                        }
                        let out = output + y * outputStride
                        for j in 0..<rowLength {
                            out[j] = UInt8(clamping: sums[j] &>> shift)
                        }
                    }
                }
            }
        }
    }
}

/// The horizontal pass over raw pointers, specialised for 3 and 4 channels.
private struct HorizontalPlan {
    let first: UnsafePointer<Int32>
    let count: UnsafePointer<Int32>
    let weights: UnsafePointer<Int32>
    let taps: Int
    let outputWidth: Int

    @inline(__always) private func clip(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum &>> AxisWeights.precisionBits)
    }

    func run3(_ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
              into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        for r in 0..<rows {
            let row = source + r * sourceStride
            let out = output + r * outputStride
            for x in 0..<outputWidth {
                let k = weights + x * taps
                var p = row + Int(first[x]) * 3
                var s0 = AxisWeights.half, s1 = AxisWeights.half, s2 = AxisWeights.half
                for t in 0..<Int(count[x]) {
                    let w = k[t]
                    s0 &+= Int32(p[0]) &* w
                    s1 &+= Int32(p[1]) &* w
                    s2 &+= Int32(p[2]) &* w
                    p += 3
                }
                out[x * 3] = clip(s0)
                out[x * 3 + 1] = clip(s1)
                out[x * 3 + 2] = clip(s2)
            }
        }
    }

    func run4(_ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
              into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        for r in 0..<rows {
            let row = source + r * sourceStride
            let out = output + r * outputStride
            for x in 0..<outputWidth {
                let k = weights + x * taps
                var p = row + Int(first[x]) * 4
                var s0 = AxisWeights.half, s1 = AxisWeights.half, s2 = AxisWeights.half, s3 = AxisWeights.half
                for t in 0..<Int(count[x]) {
                    let w = k[t]
                    s0 &+= Int32(p[0]) &* w
                    s1 &+= Int32(p[1]) &* w
                    s2 &+= Int32(p[2]) &* w
                    s3 &+= Int32(p[3]) &* w
                    p += 4
                }
                out[x * 4] = clip(s0)
                out[x * 4 + 1] = clip(s1)
                out[x * 4 + 2] = clip(s2)
                out[x * 4 + 3] = clip(s3)
            }
        }
    }

    func runAny(channels: Int, _ source: UnsafePointer<UInt8>, sourceStride: Int, rows: Int,
                into output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        for r in 0..<rows {
            let row = source + r * sourceStride
            let out = output + r * outputStride
            for x in 0..<outputWidth {
                let k = weights + x * taps
                let start = Int(first[x])
                for c in 0..<channels {
                    var s = AxisWeights.half
                    for t in 0..<Int(count[x]) {
                        s &+= Int32(row[(start + t) * channels + c]) &* k[t]
                    }
                    out[x * channels + c] = clip(s)
                }
            }
        }
    }
}

// MARK: - Geometry and conveniences

extension PixelRect {
    /// The centred square crop used for model input: side = ⌊fraction · min(width, height) + 0.5⌋
    /// (at least 1), left = ⌊(width − side) / 2⌋, top = ⌊(height − side) / 2⌋. This is the rule of
    /// `Tests/reference/preprocessing.py`; the extra odd pixel goes to the right and bottom.
    /// - Parameter fraction: in (0, 1]; 1 keeps the whole shorter side.
    public static func centerSquare(width: Int, height: Int, fraction: Double) -> PixelRect {
        precondition(width > 0 && height > 0, "no crop of an empty \(width)×\(height) image")
        precondition(fraction > 0 && fraction <= 1, "crop fraction \(fraction) is not in (0, 1]")
        let shorter = min(width, height)
        let side = min(max(Int((fraction * Double(shorter) + 0.5).rounded(.down)), 1), shorter)
        return PixelRect(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
    }
}

extension RGBImage {
    /// The pixels inside `rect`, which must lie inside the image.
    public func cropped(to rect: PixelRect) -> RGBImage {
        precondition(rect.fits(width: width, height: height), "crop \(rect) is not inside \(width)×\(height)")
        var out = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
        for y in 0..<rect.height {
            let from = ((rect.y + y) * width + rect.x) * 3
            out.replaceSubrange(y * rect.width * 3 ..< (y + 1) * rect.width * 3,
                                with: pixels[from ..< from + rect.width * 3])
        }
        return RGBImage(width: rect.width, height: rect.height, pixels: out)
    }

    /// The centred square of side `fraction × shorter side` (see `PixelRect.centerSquare`).
    public func centerCropped(fraction: Double) -> RGBImage {
        cropped(to: .centerSquare(width: width, height: height, fraction: fraction))
    }

    /// Resizes (a crop of) the image; allocates the result and the filter weights. For repeated
    /// use make a `Resampler` once instead.
    /// - Parameters:
    ///   - width: output columns.
    ///   - height: output rows.
    ///   - filter: the interpolation filter.
    ///   - crop: the region to resize, nil for the whole image; never copied out first.
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bicubic, crop: PixelRect? = nil) -> RGBImage {
        var resampler = Resampler(sourceWidth: self.width, sourceHeight: self.height, crop: crop,
                                  outputWidth: width, outputHeight: height, filter: filter, channels: 3)
        var out = RGBImage(width: width, height: height)
        resampler.resample(self, into: &out)
        return out
    }
}

extension RGBAImage {
    /// Resizes (a crop of) the image, every channel alike (alpha is not premultiplied).
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bicubic, crop: PixelRect? = nil) -> RGBAImage {
        var resampler = Resampler(sourceWidth: self.width, sourceHeight: self.height, crop: crop,
                                  outputWidth: width, outputHeight: height, filter: filter, channels: 4)
        var out = RGBAImage(width: width, height: height)
        resampler.resample(self, into: &out)
        return out
    }
}
