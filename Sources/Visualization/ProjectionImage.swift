import Foundation
import Imaging

/// How a projection (an input-shaped NCHW gradient) becomes a picture, as the Deep Visualization
/// Toolbox showed it.
public enum ProjectionStyle: String, CaseIterable, Sendable {
    /// Signed values around mid-gray: gray is zero, each channel scaled by one factor per image.
    case signed
    /// The magnitude summed over channels, black at zero: where the unit looks, not what sign.
    case absolute
}

/// Rendering options for `renderProjection`.
public struct ProjectionRendering: Sendable, Equatable {
    public var style: ProjectionStyle = .signed
    /// The |value| percentile that maps to full scale (the maximum lets one outlier pixel wash the
    /// picture out; 99.5 keeps it readable).
    public var percentile: Float = 99.5
    /// The toolbox's "norm+blur": a small Gaussian blur before normalizing (sigma in pixels, 0: none).
    public var blurSigma: Float = 0

    public init(style: ProjectionStyle = .signed, percentile: Float = 99.5, blurSigma: Float = 0) {
        self.style = style
        self.percentile = percentile
        self.blurSigma = blurSigma
    }
}

/// Turns a [1, 3, H, W] projection into an RGB image. Channel c of the tensor becomes colour c
/// (the model's channel order as given: pass `bgr` to swap for BGR models).
///
/// - Returns: the image; all mid-gray (signed) or black (absolute) when the projection is zero.
public func renderProjection(_ g: UnsafeBufferPointer<Float>, height h: Int, width w: Int, bgr: Bool = false,
                             options: ProjectionRendering = ProjectionRendering()) -> RGBImage {
    precondition(g.count == 3 * h * w, "a projection of \(g.count) values is not 3×\(h)×\(w)")
    var values = Array(g)
    if options.blurSigma > 0 {
        values.withUnsafeMutableBufferPointer { v in
            for c in 0..<3 { gaussianBlur(v.baseAddress! + c * h * w, height: h, width: w, sigma: options.blurSigma) }
        }
    }
    var image = RGBImage(width: w, height: h)
    switch options.style {
    case .signed:
        let scale = percentileOfMagnitude(values, options.percentile)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let v = values[(bgr ? 2 - c : c) * h * w + y * w + x]
                    let t = scale > 0 ? v / scale : 0
                    image.pixels[(y * w + x) * 3 + c] = UInt8(max(0, min(255, (127.5 + 127.5 * t).rounded())))
                }
            }
        }
    case .absolute:
        var magnitude = [Float](repeating: 0, count: h * w)
        for i in 0..<(h * w) { magnitude[i] = abs(values[i]) + abs(values[h * w + i]) + abs(values[2 * h * w + i]) }
        let scale = percentileOfMagnitude(magnitude, options.percentile)
        for i in 0..<(h * w) {
            let t = scale > 0 ? min(magnitude[i] / scale, 1) : 0
            let v = UInt8((255 * t).rounded())
            image.pixels[i * 3] = v; image.pixels[i * 3 + 1] = v; image.pixels[i * 3 + 2] = v
        }
    }
    return image
}

/// Blends `overlay` over `base` (same size): `amount` 0 is the base, 1 the overlay.
public func blend(_ overlay: RGBImage, over base: RGBImage, amount: Float) -> RGBImage {
    precondition(overlay.width == base.width && overlay.height == base.height, "blend of images of different sizes")
    let a = max(0, min(1, amount))
    var out = base
    for i in out.pixels.indices {
        let v = Float(base.pixels[i]) * (1 - a) + Float(overlay.pixels[i]) * a
        out.pixels[i] = UInt8(max(0, min(255, v.rounded())))
    }
    return out
}

/// The `p`-th percentile of |values| (nearest rank).
func percentileOfMagnitude(_ values: [Float], _ p: Float) -> Float {
    guard !values.isEmpty else { return 0 }
    let sorted = values.map(abs).sorted()
    let rank = Int((Float(sorted.count - 1) * max(0, min(100, p)) / 100).rounded())
    return sorted[rank]
}

/// In-place separable Gaussian blur of one plane (edges clamp).
func gaussianBlur(_ plane: UnsafeMutablePointer<Float>, height h: Int, width w: Int, sigma: Float) {
    let kernel = gaussianKernel(sigma: sigma)
    var tmp = [Float](repeating: 0, count: h * w)
    kernel.withUnsafeBufferPointer { k in
        tmp.withUnsafeMutableBufferPointer { t in separableBlur(plane, height: h, width: w, kernel: k, scratch: t.baseAddress!) }
    }
}

/// The normalized Gaussian of standard deviation `sigma`, 2·⌈3σ⌉ + 1 taps (at least 3).
func gaussianKernel(sigma: Float) -> [Float] {
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    let kernel = (-radius...radius).map { d -> Float in
        let x = Float(d) / sigma
        return Float(exp(Double(-0.5 * x * x)))
    }
    let sum = kernel.reduce(0, +)
    return kernel.map { $0 / sum }
}

/// Convolves a plane in place with `kernel` along rows, then columns (edges clamp); `scratch` holds
/// `h · w` values. Allocates nothing.
func separableBlur(_ plane: UnsafeMutablePointer<Float>, height h: Int, width w: Int,
                   kernel k: UnsafeBufferPointer<Float>, scratch tmp: UnsafeMutablePointer<Float>) {
    let radius = k.count / 2
    for y in 0..<h {
        for x in 0..<w {
            var s: Float = 0
            for d in -radius...radius { s += k[d + radius] * plane[y * w + min(max(x + d, 0), w - 1)] }
            tmp[y * w + x] = s
        }
    }
    for y in 0..<h {
        for x in 0..<w {
            var s: Float = 0
            for d in -radius...radius { s += k[d + radius] * tmp[min(max(y + d, 0), h - 1) * w + x] }
            plane[y * w + x] = s
        }
    }
}
