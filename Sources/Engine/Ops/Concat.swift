/// Concat along one axis.
struct ConcatOp: Op {
    let axis: Int

    var kindName: String { "Concat" }

    func outputShape(_ check: ShapeCheck) throws -> Shape {
        let inputs = check.inputs
        guard let first = inputs.first else { throw check.fail("Concat needs inputs") }
        guard axis >= 0 && axis < first.rank else { throw check.fail("Concat axis \(axis) outside rank \(first.rank)") }
        var dims = first.dims
        dims[axis] = 0
        for s in inputs {
            guard s.rank == first.rank, (0..<s.rank).allSatisfy({ $0 == axis || s[$0] == first[$0] }) else {
                throw check.fail("Concat inputs \(inputs.map(\.description).joined(separator: ", ")) differ outside axis \(axis)")
            }
            dims[axis] += s[axis]
        }
        return Shape(dims)
    }

    func forward(_ context: ForwardContext) -> ForwardPlan {
        let out = context.output
        let outer = out.dims[..<axis].reduce(1, *), total = out.dims[axis...].reduce(1, *)
        let sizes = context.inputs.map { $0.dims[axis...].reduce(1, *) }
        return ForwardPlan { b in
            let y = b.output
            let pieces = Array(zip(b.inputs, sizes))
            return Work.serial {
                for o in 0..<outer {
                    var pos = 0
                    for (x, size) in pieces {
                        (y + o * total + pos).update(from: x + o * size, count: size)
                        pos += size
                    }
                }
            }
        }
    }

    /// Routes each slice of the gradient back to its input, in every mode.
    func backward(_ c: BackwardContext) -> [Work] {
        let out = c.outputShape
        let outer = out.dims[..<axis].reduce(1, *), total = out.dims[axis...].reduce(1, *)
        let pieces = c.inputShapes.indices.map { k in
            (grad: c.gradients[k], size: c.inputShapes[k].dims[axis...].reduce(1, *), skip: c.isConstant[k], set: c.first[k])
        }
        let gy = c.gy
        return [Work.serial {
            for o in 0..<outer {
                var at = 0
                for p in pieces {
                    if !p.skip {
                        for i in 0..<p.size { put(p.grad + o * p.size + i, gy[o * total + at + i], p.set) }
                    }
                    at += p.size
                }
            }
        }]
    }

    func receptiveField(_ context: FieldContext) -> ReceptiveField { context.widest }
}
