import Foundation
import Engine
import ModelIO
import Testing

@Suite struct PoolingImportTests {
    func pool(_ op: String, shape: [Int] = [1, 3, 8, 8], _ attrs: [Onnx_AttributeProto]) throws -> Model {
        var b = ONNXBuilder(shape: shape)
        b.node(op, ["x"], ["y"], attrs)
        b.output("y")
        return try b.load()
    }

    @Test func maxPoolWindowAndCeilMode() throws {
        let m = try pool("MaxPool", shape: [1, 3, 7, 7], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2]),
                                                        attr("ceil_mode", int: 1)])
        guard case .maxPool(let w) = try #require(m.node("y")).op else { Issue.record("MaxPool"); return }
        #expect(w.kernelH == 3 && w.strideW == 2 && w.ceilMode)
        #expect(m.shape("y") == Shape([1, 3, 3, 3]))
        let floor = try pool("MaxPool", shape: [1, 3, 8, 8], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2])])
        #expect(floor.shape("y") == Shape([1, 3, 3, 3]))
        let ceil = try pool("MaxPool", shape: [1, 3, 8, 8], [attr("kernel_shape", ints: [3, 3]), attr("strides", ints: [2, 2]),
                                                           attr("ceil_mode", int: 1)])
        #expect(ceil.shape("y") == Shape([1, 3, 4, 4]))
    }

    @Test func maxPoolPadsAndSameUpper() throws {
        let m = try pool("MaxPool", [attr("kernel_shape", ints: [2, 2]), attr("auto_pad", string: "SAME_UPPER")])
        guard case .maxPool(let w) = try #require(m.node("y")).op else { Issue.record("MaxPool"); return }
        #expect(pads(w) == [0, 0, 1, 1])
        #expect(m.shape("y") == Shape([1, 3, 8, 8]))
    }

    @Test func maxPoolRefusesDilationsAndStorageOrder() {
        #expect((try? pool("MaxPool", [attr("kernel_shape", ints: [2, 2]), attr("dilations", ints: [2, 2])]))?.shape("y") == Shape([1, 3, 6, 6]))
        #expect(modelError { try pool("MaxPool", [attr("kernel_shape", ints: [2, 2]), attr("storage_order", int: 1)]) }
            .contains("storage_order"))
        #expect(modelError { try pool("MaxPool", []) }.contains("'kernel_shape' is missing"))
        #expect(modelError { try pool("MaxPool", [attr("kernel_shape", ints: [2, 2, 2])]) }.contains("expected 2"))
    }

    @Test func averagePoolCountIncludePad() throws {
        let m = try pool("AveragePool", [attr("kernel_shape", ints: [3, 3]), attr("pads", ints: [1, 1, 1, 1]),
                                         attr("count_include_pad", int: 1)])
        guard case .averagePool(let w, let include) = try #require(m.node("y")).op else { Issue.record("AveragePool"); return }
        #expect(include && w.padTop == 1 && w.padRight == 1)
        let n = try pool("AveragePool", [attr("kernel_shape", ints: [3, 3])])
        guard case .averagePool(_, let include2) = try #require(n.node("y")).op else { Issue.record("AveragePool"); return }
        #expect(!include2)
        #expect(n.shape("y") == Shape([1, 3, 6, 6]))
    }

    @Test func globalAveragePoolAndLRN() throws {
        let g = try pool("GlobalAveragePool", [])
        #expect(g.shape("y") == Shape([1, 3, 1, 1]))
        let l = try pool("LRN", [attr("size", int: 5), attr("alpha", float: 2e-4), attr("beta", float: 0.5)])
        guard case .lrn(let p) = try #require(l.node("y")).op else { Issue.record("LRN"); return }
        #expect(p == LocalResponseNorm(size: 5, alpha: 2e-4, beta: 0.5, bias: 1))
        #expect(modelError { try pool("LRN", []) }.contains("'size' is missing"))
    }
}
