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

    /// Resamples `image` (RGB or RGBA) into `output`, reshaping `output` to the output size (its
    /// storage is reused when it already has that size).
    public mutating func resample<Image: InterleavedImage>(_ image: Image, into output: inout Image) {
        precondition(channels == Image.channels,
                     "this resampler was planned for \(channels) channels, not \(Image.channels)")
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
