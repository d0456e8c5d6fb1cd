import CBLAS

/// Gemm (and MatMul by a constant): a fully connected layer y = x · Wᵀ + b. The input is [N, K]
/// (or anything of N·K values, flattened), or, for MatMul, any rank whose last dimension is K: each
/// row of K values becomes a row of the output's last dimension (a Linear layer over NHWC).
struct DenseOp: Op {
    let dense: Dense

    var kindName: String { "Gemm" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        try check.inputs(1)
        let s = check.first, d = dense
        guard s.rank >= 1 else { throw check.fail("Gemm needs a matrix input") }
        guard d.weight.count == d.inFeatures * d.outFeatures, d.bias.count == d.outFeatures else {
            throw check.fail("Gemm weight or bias size does not match \(d.outFeatures)×\(d.inFeatures)")
        }
        if s.rank > 2 && s.dims.last == d.inFeatures && s.count != s[0] * d.inFeatures {
            return Shape(s.dims.dropLast() + [d.outFeatures])
        }
        let batch = s.rank == 1 ? 1 : s[0]
        guard s.count == batch * d.inFeatures else {
            throw check.fail("Gemm expects \(d.inFeatures) input features, input is \(s)")
        }
        return Shape([batch, d.outFeatures])
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let batch = context.output.count / dense.outFeatures, threads = context.threads
        let inF = dense.inFeatures, outF = dense.outFeatures
        return ForwardPlan(parameters: [dense.weight, dense.bias]) { b in
            let x = b.x, y = b.output, w = b.parameters[0], bias = b.parameters[1]
            if batch == 1 {
                // Split output features across threads: each computes a slice of W · x.
                let rows = outF, chunk = max(64, (rows + threads * 4 - 1) / (threads * 4))
                return Work(tasks: (rows + chunk - 1) / chunk) { t, _ in
                    let r0 = t * chunk, n = min(chunk, rows - r0)
                    (y + r0).update(from: bias + r0, count: n)
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(inF), 1,
                                w + r0 * inF, Int32(inF), x, 1, 1, y + r0, 1)
                }
            }
            return Work.serial {
                for i in 0..<batch { (y + i * outF).update(from: bias, count: outF) }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(outF),
                            Int32(inF), 1, x, Int32(inF), w, Int32(inF), 1, y, Int32(outF))
            }
        }
    }

    /// Multiplies by the transposed weights, in every mode: gx[n, :] = Wᵀ · gy[n, :].
    func backward(_ c: BackwardContext) -> [Work] {
        let d = dense, batch = c.outputShape.count / d.outFeatures
        let gx = c.gx, gy = c.gy, set = c.set
        let weight = d.weight
        return [Work.serial {
            weight.withUnsafeBufferPointer { wp in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(d.inFeatures),
                            Int32(d.outFeatures), 1, gy, Int32(d.outFeatures), wp.baseAddress!, Int32(d.inFeatures),
                            set ? 0 : 1, gx, Int32(d.inFeatures))
            }
        }]
    }

    /// Rows of a map (rank > 2) keep its field; a flat [N, K] input makes every unit see the whole input.
    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.output.rank > 2 ? context.first : context.whole }

    func cost(output: Shape) -> OpCost {
        OpCost(macs: (output.count / dense.outFeatures) * dense.weight.count,
               parameters: dense.weight.count + dense.bias.count)
    }
}
