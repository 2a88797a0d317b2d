import Checkpoints
import Foundation
import TensorCore

extension Network {
    /// Imports a CNN from an ONNX file: its graph becomes an `Architecture` (node paths = ONNX node names, aliases =
    /// their output names), its initializers the parameters. Batch norms and constant scales/shifts fold into the
    /// conv or linear next to them, zero Pads into the next conv, shape arithmetic into constants; a tf2onnx NHWC
    /// input with its Transpose is taken as NCHW. Anything else is refused with the node, its op and the ops known.
    ///
    /// - Parameter preprocessing: the input convention of the weights (ONNX files do not say); torchvision's by default.
    public static func importONNX(path: String, name: String, preprocessing: Preprocessing = .torchvision) throws -> Network {
        let graph: ONNXGraph
        do { graph = try ONNXGraph.load(path: path) } catch { throw ModelError.badWeightsFile(file: path, reason: "\(error)") }
        var provenance = ["file": path, "producer": graph.producer, "opset": String(graph.opset)]
        provenance["file_sha256"] = try? SHA256.hex(ofFile: path)
        return try importONNX(graph, name: name, preprocessing: preprocessing, file: URL(fileURLWithPath: path).lastPathComponent,
                              provenance: provenance)
    }

    /// Imports an already parsed graph (see `importONNX(path:name:preprocessing:)`).
    public static func importONNX(_ graph: ONNXGraph, name: String, preprocessing: Preprocessing = .torchvision,
                                  file: String = "model.onnx", provenance: [String: String] = [:]) throws -> Network {
        var importer = ONNXImporter(graph: graph, model: name)
        try importer.run()
        let architecture = try Architecture(family: name, graph: importer.finishedLayers())
        return try Network(name: name, architecture: architecture, preprocessing: preprocessing,
                           parameters: importer.parameters, file: file, provenance: provenance)
    }
}

/// The ONNX ops `importONNX` maps, for error messages.
let supportedONNXOps = ["Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "Add", "Sub", "Mul", "Div", "Concat",
                        "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Squeeze", "Unsqueeze",
                        "Gemm", "MatMul", "Softmax", "Identity", "Dropout", "Pad", "Transpose", "Cast", "Constant",
                        "ConstantOfShape", "Shape", "Gather", "Slice"]

/// Converts one graph, node by node in dependency order, keeping what each ONNX value is.
struct ONNXImporter {
    /// A network node's output as ONNX sees it, perhaps with a transformation not yet applied (folded into the
    /// next conv or linear when it comes).
    struct Flow {
        var node: Int
        /// Per sample: (C, H, W) for maps, (F) for vectors.
        var shape: [Int]
        var pending: Pending?
        var isMap: Bool { shape.count == 3 }
    }

    enum Pending {
        /// y = x * scale + shift per channel (feature); `label`/`output` name the last ONNX node of the chain.
        case affine(scale: [Double], shift: [Double], label: String, output: String)
        /// Zeros around the map, from a Pad only a conv may absorb.
        case pad(Padding, label: String)
        /// The map transposed to (N, H, W, C) (tf2onnx's Keras flatten order); only Flatten/Reshape may read it.
        case nhwc
        /// Flattened from NHWC: the ONNX features are (h, w, c) where the node's are (c, h, w); only Gemm/MatMul
        /// may read it (their weight columns are permuted instead).
        case hwcFeatures(c: Int, h: Int, w: Int)
    }

    enum Value {
        case flow(Flow)
        /// An initializer or Constant tensor, read as a weight or folded as a constant.
        case tensor(CheckpointTensor)
        case constant(ONNXConstant)
        /// The graph input in NHWC, before the Transpose that makes it NCHW.
        case nhwcInput(height: Int, width: Int)
    }

    struct Building {
        var path: String
        var kind: LayerKind
        var inputs: [Int]
        var aliases: [String]
    }

    let graph: ONNXGraph
    let model: String
    var values: [String: Value] = [:]
    var layers: [Building] = []
    var parameters: [String: Tensor] = [:]
    /// How many nodes (and graph outputs) read each value name.
    var readers: [String: Int] = [:]
    /// The node being converted, for errors.
    var current: ONNXGraph.Node?

    init(graph: ONNXGraph, model: String) {
        self.graph = graph
        self.model = model
    }

    // MARK: Errors

    func fail(_ reason: String, node label: String? = nil) -> ModelError {
        let node = label ?? current.map { "\($0.label)" } ?? "(graph)"
        let op = label == nil ? current.map { "\($0.opType): " } ?? "" : ""
        return ModelError.badGraph(model: model, node: node, reason: op + reason)
    }

    // MARK: Driver

    mutating func run() throws {
        for (name, tensor) in graph.initializers { values[name] = .tensor(tensor) }
        try readInput()
        let order = try dependencyOrder()
        for node in order { for input in node.inputs where !input.isEmpty { readers[input, default: 0] += 1 } }
        for output in graph.outputs { readers[output.name, default: 0] += 1 }
        for node in order {
            current = node
            try convert(node)
        }
        current = nil
        guard !graph.outputs.isEmpty else { throw fail("the graph declares no outputs", node: "(graph)") }
        for output in graph.outputs {
            guard case .flow(var flow)? = values[output.name] else {
                throw fail("graph output '\(output.name)' is a constant, not computed from the image", node: output.name)
            }
            try materialize(&flow, for: "graph output '\(output.name)'")
            if !layers[flow.node].aliases.contains(output.name) && layers[flow.node].path != output.name {
                layers[flow.node].aliases.append(output.name)
            }
        }
    }

    /// The one image input: (N, 3, H, W), or (N, H, W, 3) read only through Transpose [0, 3, 1, 2].
    mutating func readInput() throws {
        guard graph.inputs.count == 1, let input = graph.inputs.first else {
            throw fail("the graph has \(graph.inputs.count) inputs (\(graph.inputs.map(\.name).joined(separator: ", "))); "
                + "filtervis imports models with one image input", node: "(graph)")
        }
        let dims = input.dims ?? []
        func size(_ d: ONNXGraph.Dimension) -> Int? { if case .value(let v) = d, v > 0, v <= 1 << 16 { return Int(v) }; return nil }
        let shown = "(" + dims.map { d -> String in
            switch d { case .value(let v): return String(v); case .param(let p): return p; case .unknown: return "?" }
        }.joined(separator: ", ") + ")"
        guard input.elementType == 1, dims.count == 4 else {
            throw fail("the input is \(input.dims == nil ? "of undeclared shape" : shown) of element type \(input.elementType.map(String.init) ?? "?"); "
                + "filtervis needs a 4-D float image tensor with 3 channels, (N, 3, H, W) or (N, H, W, 3)", node: input.name)
        }
        let transposes = graph.nodes.filter { $0.inputs.contains(input.name) }
        let allTranspose = !transposes.isEmpty && transposes.allSatisfy {
            if $0.opType == "Transpose", case .ints(let p)? = $0.attributes["perm"] { return p == [0, 3, 1, 2] }
            return false
        }
        if size(dims[3]) == 3, allTranspose, let h = size(dims[1]), let w = size(dims[2]) {
            values[input.name] = .nhwcInput(height: h, width: w)
        } else if size(dims[1]) == 3, let h = size(dims[2]), let w = size(dims[3]) {
            values[input.name] = .flow(Flow(node: Layer.image, shape: [3, h, w]))
        } else {
            throw fail("the input is \(shown); filtervis needs a 4-D image tensor with 3 channels and a fixed height and width: "
                + "(N, 3, H, W), or (N, H, W, 3) followed by Transpose perm [0, 3, 1, 2] (re-export with a fixed input size)",
                node: input.name)
        }
    }

    /// The nodes in an order where each comes after the producers of its inputs; refuses names nothing produces,
    /// two producers of one name, and cycles.
    func dependencyOrder() throws -> [ONNXGraph.Node] {
        var producer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                guard producer.updateValue(i, forKey: output) == nil, values[output] == nil else {
                    throw fail("its output '\(output)' is also produced by another node, an initializer or the input", node: node.label)
                }
            }
        }
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty && producer[input] == nil && values[input] == nil {
                throw fail("\(node.opType): its input '\(input)' is neither the graph input, an initializer, nor any node's output "
                    + "(a missing initializer: re-export with the weights inside the file)", node: node.label)
            }
        }
        for output in graph.outputs where producer[output.name] == nil && values[output.name] == nil {
            throw fail("no node produces the graph output '\(output.name)'", node: output.name)
        }
        var waiting = graph.nodes.map { node in Set(node.inputs.filter { !$0.isEmpty }.compactMap { producer[$0] }).count }
        var dependents = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            for p in Set(node.inputs.filter { !$0.isEmpty }.compactMap { producer[$0] }) { dependents[p].append(i) }
        }
        var ready = (0..<graph.nodes.count).filter { waiting[$0] == 0 }.reversed() as [Int]
        var order: [ONNXGraph.Node] = []
        while let i = ready.popLast() {
            order.append(graph.nodes[i])
            for d in dependents[i].reversed() {
                waiting[d] -= 1
                if waiting[d] == 0 { ready.append(d) }
            }
        }
        if order.count < graph.nodes.count, let stuck = graph.nodes.indices.first(where: { waiting[$0] > 0 }) {
            let node = graph.nodes[stuck]
            throw fail("\(node.opType): it is part of a cycle (it reads, through other nodes, its own output); an ONNX graph must be acyclic",
                       node: node.label)
        }
        return order
    }

    /// The layers, with the final names.
    func finishedLayers() -> [Layer] {
        layers.map { layer in
            var seen: Set<String> = [layer.path]
            return Layer(path: layer.path, kind: layer.kind, inputs: layer.inputs, aliases: layer.aliases.filter { seen.insert($0).inserted })
        }
    }

    // MARK: Values

    func value(_ name: String) throws -> Value {
        guard let v = values[name] else { throw fail("its input '\(name)' has no value") }
        return v
    }

    func input(_ node: ONNXGraph.Node, _ i: Int) -> String? {
        i < node.inputs.count && !node.inputs[i].isEmpty ? node.inputs[i] : nil
    }

    func flow(_ node: ONNXGraph.Node, _ i: Int = 0) throws -> Flow {
        guard let name = input(node, i) else { throw fail("input \(i) is missing") }
        switch try value(name) {
        case .flow(let f): return f
        case .nhwcInput: throw fail("reads the NHWC graph input directly; only a Transpose with perm [0, 3, 1, 2] may read it")
        case .tensor, .constant: throw fail("input '\(name)' is a constant where the image's data flow was expected")
        }
    }

    func constant(_ name: String) throws -> ONNXConstant? {
        switch try value(name) {
        case .constant(let c): return c
        case .tensor(let t):
            do { return try ONNXConstant(t) } catch let p as ConstantProblem { throw fail("'\(name)': \(p.reason)") }
        default: return nil
        }
    }

    func requireConstant(_ node: ONNXGraph.Node, _ i: Int, _ what: String) throws -> ONNXConstant {
        guard let name = input(node, i) else { throw fail("its \(what) (input \(i)) is missing") }
        guard let c = try constant(name) else { throw fail("its \(what) '\(name)' must be a constant, not computed from the image") }
        return c
    }

    /// A weight's values (an initializer or Constant), refusing NaN and infinities.
    func weight(_ node: ONNXGraph.Node, _ i: Int, _ what: String) throws -> (shape: [Int], values: [Float]) {
        guard let name = input(node, i) else { throw fail("its \(what) (input \(i)) is missing") }
        switch try value(name) {
        case .tensor(let t):
            do { return (t.shape, try t.finiteFloats()) } catch { throw fail("its \(what) '\(name)': \(error)") }
        case .constant(let c) where c.batch.isEmpty: return (c.shape, c.values.map(Float.init))
        default: throw fail("its \(what) '\(name)' must be an initializer, not computed from the image")
        }
    }

    func ints(_ node: ONNXGraph.Node, _ key: String) -> [Int64]? {
        if case .ints(let v)? = node.attributes[key] { return v }
        return nil
    }
    func int(_ node: ONNXGraph.Node, _ key: String) -> Int64? {
        if case .int(let v)? = node.attributes[key] { return v }
        return nil
    }
    func float(_ node: ONNXGraph.Node, _ key: String) -> Float? {
        if case .float(let v)? = node.attributes[key] { return v }
        return nil
    }
    func string(_ node: ONNXGraph.Node, _ key: String) -> String? {
        if case .string(let v)? = node.attributes[key] { return v }
        return nil
    }

    /// An integer attribute list, each in `range`.
    func bounded(_ node: ONNXGraph.Node, _ key: String, _ range: ClosedRange<Int64>, default fallback: [Int64]) throws -> [Int] {
        let v = ints(node, key) ?? fallback
        guard v.allSatisfy(range.contains) else { throw fail("\(key) \(v) outside \(range.lowerBound)...\(range.upperBound)") }
        return v.map(Int.init)
    }

    mutating func set(_ node: ONNXGraph.Node, _ value: Value, output i: Int = 0) {
        if i < node.outputs.count, !node.outputs[i].isEmpty { values[node.outputs[i]] = value }
    }

    /// Appends a network node named after the ONNX node, and its output as a flow.
    mutating func emit(_ node: ONNXGraph.Node, _ kind: LayerKind, inputs: [Int], shape: [Int]) {
        let path = node.label
        let aliases = node.outputs.prefix(1).filter { !$0.isEmpty && $0 != path }
        layers.append(Building(path: path, kind: kind, inputs: inputs, aliases: aliases))
        set(node, .flow(Flow(node: layers.count - 1, shape: shape)))
    }

    /// The flow with any pending scale/shift applied as a node of its own (a depthwise 1x1 conv on maps); other
    /// pending transformations cannot be applied anywhere but where they are allowed, so they are refused.
    mutating func materialize(_ flow: inout Flow, for reader: String) throws {
        switch flow.pending {
        case nil: return
        case let .affine(scale, shift, label, output):
            guard flow.isMap else {
                throw fail("the constant scale/shift '\(label)' on features is read by \(reader); it folds only into a following Gemm/MatMul or a preceding Gemm/MatMul/Conv with no other reader")
            }
            let c = flow.shape[0]
            layers.append(Building(path: label, kind: .conv(ConvSpec(inChannels: c, outChannels: c, kernel: 1, groups: c)),
                                   inputs: [flow.node], aliases: output == label ? [] : [output]))
            parameters["\(label).weight"] = Tensor(shape: [c, 1, 1, 1], storage: scale.map(Float.init))
            parameters["\(label).bias"] = Tensor(shape: [c], storage: shift.map(Float.init))
            flow = Flow(node: layers.count - 1, shape: flow.shape)
        case let .pad(_, label):
            throw fail("the zero Pad '\(label)' is read by \(reader); it folds only into the Conv that reads it")
        case .nhwc:
            throw fail("a map transposed to NHWC is read by \(reader); only Flatten or Reshape to (N, -1) may read it")
        case .hwcFeatures:
            throw fail("features flattened in NHWC order are read by \(reader); only Gemm/MatMul may read them")
        }
    }

    /// The flow of input `i`, with anything pending applied (for a node that cannot absorb it).
    mutating func plainFlow(_ node: ONNXGraph.Node, _ i: Int = 0) throws -> Flow {
        var f = try flow(node, i)
        try materialize(&f, for: "\(node.opType) '\(node.label)'")
        return f
    }

    // MARK: Ops

    mutating func convert(_ node: ONNXGraph.Node) throws {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw fail("op domain '\(node.domain)' is not supported (only the default ONNX operator set)")
        }
        // Constants in, constant out: shape arithmetic.
        if node.opType != "Constant", try foldIfConstant(node) { return }
        switch node.opType {
        case "Constant": try constantNode(node)
        case "Conv": try conv(node)
        case "BatchNormalization": try batchNorm(node)
        case "Relu": try activation(node, .relu)
        case "Sigmoid": try activation(node, .sigmoid)
        case "Clip": try clip(node)
        case "Identity", "Dropout", "Cast":
            if node.opType == "Cast", int(node, "to") != 1 { throw fail("casts the image's data to type \(int(node, "to") ?? 0); only float is supported") }
            if node.opType == "Dropout", node.outputs.count > 1, let mask = node.outputs.last, readers[mask, default: 0] > 0 {
                throw fail("its mask output '\(mask)' is read; only an inference Dropout (identity) is supported")
            }
            try activation(node, .dropout)
        case "Add", "Sub", "Mul", "Div": try arithmetic(node)
        case "Concat": try concat(node)
        case "MaxPool", "AveragePool": try pool(node)
        case "GlobalAveragePool":
            let x = try plainFlow(node)
            guard x.isMap else { throw fail("its input is not a map") }
            emit(node, .adaptiveAvgPool(height: 1, width: 1), inputs: [x.node], shape: [x.shape[0], 1, 1])
        case "Flatten":
            let axis = int(node, "axis") ?? 1
            guard axis == 1 else { throw fail("axis \(axis); only Flatten(axis 1) is supported") }
            try flatten(node)
        case "Reshape": try reshape(node)
        case "Squeeze": try squeeze(node)
        case "Gemm", "MatMul": try linear(node)
        case "Softmax": try softmax(node)
        case "Pad": try pad(node)
        case "Transpose": try transpose(node)
        default:
            throw fail("op '\(node.opType)' is not supported; supported: \(supportedONNXOps.joined(separator: ", "))")
        }
    }

    mutating func constantNode(_ node: ONNXGraph.Node) throws {
        if case .tensor(let t)? = node.attributes["value"] { set(node, .tensor(t)); return }
        if let f = float(node, "value_float") { set(node, .constant(ONNXConstant(shape: [], values: [Double(f)]))); return }
        if let i = int(node, "value_int") { set(node, .constant(ONNXConstant(shape: [], values: [Double(i)]))); return }
        if let v = ints(node, "value_ints") { set(node, .constant(ONNXConstant(shape: [v.count], values: v.map(Double.init)))); return }
        if case .floats(let v)? = node.attributes["value_floats"] {
            set(node, .constant(ONNXConstant(shape: [v.count], values: v.map(Double.init)))); return
        }
        throw fail("has no value attribute this importer reads (value, value_float(s), value_int(s))")
    }

    // MARK: Convolution and normalisation

    mutating func conv(_ node: ONNXGraph.Node) throws {
        var x = try flow(node)
        var extra = Padding.zero
        if case .pad(let p, _)? = x.pending { extra = p; x.pending = nil }
        try materialize(&x, for: "Conv '\(node.label)'")
        guard x.isMap else { throw fail("its input is not a map (N, C, H, W)") }
        let (wShape, w) = try weight(node, 1, "weight")
        guard wShape.count == 4 else { throw fail("weight of shape \(wShape); a 2-D conv's is (O, I/groups, kH, kW)") }
        guard wShape[2] == wShape[3] else { throw fail("kernel \(wShape[2])x\(wShape[3]); only square kernels are supported") }
        let group = Int(int(node, "group") ?? 1)
        let (out, perGroup, k) = (wShape[0], wShape[1], wShape[2])
        guard group >= 1, group <= 1 << 20, out % group == 0, perGroup * group == x.shape[0] else {
            throw fail("weight \(wShape) with group \(group) needs \(perGroup * Swift.max(group, 1)) input channels, but its input has \(x.shape[0])")
        }
        if let ks = ints(node, "kernel_shape"), ks.map(Int.init) != [k, k] { throw fail("kernel_shape \(ks) disagrees with the weight \(wShape)") }
        let strides = try bounded(node, "strides", 1...(1 << 16), default: [1, 1])
        let dilations = try bounded(node, "dilations", 1...(1 << 12), default: [1, 1])
        guard strides.count == 2, strides[0] == strides[1] else { throw fail("strides \(strides); only equal strides are supported") }
        guard dilations.count == 2, dilations[0] == dilations[1] else { throw fail("dilations \(dilations); only equal dilations are supported") }
        var padding = try padding(node, input: x, kernel: k, stride: strides[0], dilation: dilations[0])
        padding.top += extra.top; padding.bottom += extra.bottom; padding.left += extra.left; padding.right += extra.right
        let h = (x.shape[1] + padding.top + padding.bottom - dilations[0] * (k - 1) - 1) / strides[0] + 1
        let wd = (x.shape[2] + padding.left + padding.right - dilations[0] * (k - 1) - 1) / strides[0] + 1
        guard x.shape[1] + padding.top + padding.bottom >= dilations[0] * (k - 1) + 1,
              x.shape[2] + padding.left + padding.right >= dilations[0] * (k - 1) + 1 else {
            throw fail("its \(k)x\(k) window (dilation \(dilations[0])) does not fit the \(x.shape[1])x\(x.shape[2]) input")
        }
        var bias = [Float](repeating: 0, count: out)
        if input(node, 2) != nil {
            let (bShape, b) = try weight(node, 2, "bias")
            guard b.count == out else { throw fail("bias of shape \(bShape) for \(out) output channels") }
            bias = b
        }
        let spec = ConvSpec(inChannels: x.shape[0], outChannels: out, kernel: k, stride: strides[0], padding: padding,
                            dilation: dilations[0], groups: group, bias: true)
        emit(node, .conv(spec), inputs: [x.node], shape: [out, h, wd])
        parameters["\(node.label).weight"] = Tensor(shape: wShape, storage: w)
        parameters["\(node.label).bias"] = Tensor(shape: [out], storage: bias)
    }

    /// pads [top, left, bottom, right] or auto_pad (SAME_UPPER puts the odd pixel after, SAME_LOWER before).
    func padding(_ node: ONNXGraph.Node, input x: Flow, kernel k: Int, stride s: Int, dilation d: Int) throws -> Padding {
        let auto = string(node, "auto_pad") ?? "NOTSET"
        switch auto {
        case "NOTSET":
            let p = try bounded(node, "pads", 0...(1 << 16), default: [0, 0, 0, 0])
            guard p.count == 4 else { throw fail("pads \(p); a 2-D op has 4 (top, left, bottom, right)") }
            return Padding(top: p[0], bottom: p[2], left: p[1], right: p[3])
        case "VALID": return .zero
        case "SAME_UPPER", "SAME_LOWER":
            func split(_ size: Int) -> (Int, Int) {
                let total = Swift.max(((size + s - 1) / s - 1) * s + (k - 1) * d + 1 - size, 0)
                return auto == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (t, b) = split(x.shape[1]), (l, r) = split(x.shape[2])
            return Padding(top: t, bottom: b, left: l, right: r)
        default: throw fail("auto_pad '\(auto)' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
    }

    mutating func batchNorm(_ node: ONNXGraph.Node) throws {
        let x = try flow(node)
        let c = x.shape[0]
        var parts: [[Float]] = []
        for (i, what) in ["scale", "bias", "mean", "variance"].enumerated() {
            let (shape, v) = try weight(node, i + 1, what)
            guard v.count == c else { throw fail("its \(what) has shape \(shape) for \(c) channels") }
            parts.append(v)
        }
        let eps = Double(float(node, "epsilon") ?? 1e-5)
        let scale = (0..<c).map { Double(parts[0][$0]) / (Double(parts[3][$0]) + eps).squareRoot() }
        let shift = (0..<c).map { Double(parts[1][$0]) - Double(parts[2][$0]) * scale[$0] }
        guard scale.allSatisfy(\.isFinite) else { throw fail("variance + epsilon is not positive for every channel") }
        try affine(node, x, scale: scale, shift: shift, isBatchNorm: true)
    }

    /// y = x * scale + shift per channel: folded into the conv/linear that feeds it when nothing else reads that
    /// node, else kept pending for the next node.
    mutating func affine(_ node: ONNXGraph.Node, _ x: Flow, scale: [Double], shift: [Double], isBatchNorm: Bool = false) throws {
        var x = x
        let output = node.outputs.first ?? node.label
        if x.pending == nil, x.node >= 0, readCount(of: x.node) == 1 {
            let layer = layers[x.node]
            var target: (weight: String, bias: String)?
            if case .conv = layer.kind { target = ("\(layer.path).weight", "\(layer.path).bias") }
            if case .linear = layer.kind { target = ("\(layer.path).weight", "\(layer.path).bias") }
            if let target, let w = parameters[target.weight], let b = parameters[target.bias] {
                let rows = w.shape[0], per = w.count / rows
                var ws = w.storage, bs = b.storage
                for o in 0..<rows {
                    for i in (o * per)..<((o + 1) * per) { ws[i] = Float(Double(ws[i]) * scale[o]) }
                    bs[o] = Float(Double(bs[o]) * scale[o] + shift[o])
                }
                parameters[target.weight] = Tensor(shape: w.shape, storage: ws)
                parameters[target.bias] = Tensor(shape: b.shape, storage: bs)
                // The node's own output no longer exists: it answers to the folded node's names now.
                layers[x.node].aliases = [node.label, output].filter { $0 != layer.path }
                set(node, .flow(x))
                return
            }
        }
        if isBatchNorm, x.pending == nil, x.node >= 0, case .conv = layers[x.node].kind {
            throw fail("the conv '\(layers[x.node].path)' before it has other readers, so the batch norm cannot fold into it")
        }
        switch x.pending {
        case nil:
            x.pending = .affine(scale: scale, shift: shift, label: node.label, output: output)
        case let .affine(s0, t0, _, _):
            x.pending = .affine(scale: zip(s0, scale).map { $0 * $1 }, shift: (0..<scale.count).map { t0[$0] * scale[$0] + shift[$0] },
                                label: node.label, output: output)
        default:
            try materialize(&x, for: "\(node.opType) '\(node.label)'")
            x.pending = .affine(scale: scale, shift: shift, label: node.label, output: output)
        }
        set(node, .flow(x))
    }

    /// How many ONNX readers the node's output has, under all its names.
    func readCount(of index: Int) -> Int {
        let names = [layers[index].path] + layers[index].aliases
        return names.reduce(0) { $0 + readers[$1, default: 0] }
    }

    // MARK: Elementwise

    mutating func activation(_ node: ONNXGraph.Node, _ kind: LayerKind) throws {
        let x = try plainFlow(node)
        emit(node, kind, inputs: [x.node], shape: x.shape)
    }

    mutating func clip(_ node: ONNXGraph.Node) throws {
        var lo = float(node, "min") ?? -.infinity, hi = float(node, "max") ?? .infinity
        for (i, isMin) in [(1, true), (2, false)] where input(node, i) != nil {
            let c = try requireConstant(node, i, isMin ? "min" : "max")
            guard c.count == 1, c.batch.isEmpty else { throw fail("its \(isMin ? "min" : "max") must be one number") }
            if isMin { lo = Float(c.values[0]) } else { hi = Float(c.values[0]) }
        }
        guard !(lo > hi) else { throw fail("min \(lo) exceeds max \(hi)") }
        try activation(node, lo == 0 && hi == .infinity ? .relu : .clip(min: lo, max: hi))
    }

    /// Add/Sub/Mul/Div: two flows (residual sums, gates), or a flow and per-channel constants (a scale/shift).
    mutating func arithmetic(_ node: ONNXGraph.Node) throws {
        guard node.inputs.count == 2, let a = input(node, 0), let b = input(node, 1) else { throw fail("needs two inputs") }
        let (va, vb) = (try value(a), try value(b))
        switch (va, vb) {
        case (.flow, .flow):
            guard node.opType == "Add" || node.opType == "Mul" else { throw fail("\(node.opType) of two maps is not supported (only Add and Mul)") }
            let x = try plainFlow(node, 0), y = try plainFlow(node, 1)
            let shape: [Int]
            if x.shape == y.shape { shape = x.shape }
            else if x.isMap, y.isMap, x.shape[0] == y.shape[0], y.shape[1...] == [1, 1] { shape = x.shape }
            else if x.isMap, y.isMap, x.shape[0] == y.shape[0], x.shape[1...] == [1, 1] { shape = y.shape }
            else { throw fail("shapes \(x.shape) and \(y.shape) do not match (nor broadcast as (C, H, W) with (C, 1, 1))") }
            emit(node, node.opType == "Add" ? .add : .mul, inputs: [x.node, y.node], shape: shape)
        case (.flow(let x), _), (_, .flow(let x)):
            let flowFirst: Bool
            if case .flow = va { flowFirst = true } else { flowFirst = false }
            guard let c = try constant(flowFirst ? b : a) else { throw fail("cannot combine the image's data with '\(flowFirst ? b : a)'") }
            let v = try perChannel(c, of: x)
            switch (node.opType, flowFirst) {
            case ("Mul", _): try affine(node, x, scale: v, shift: v.map { _ in 0 })
            case ("Add", _): try affine(node, x, scale: v.map { _ in 1 }, shift: v)
            case ("Sub", true): try affine(node, x, scale: v.map { _ in 1 }, shift: v.map { -$0 })
            case ("Sub", false): try affine(node, x, scale: v.map { _ in -1 }, shift: v)
            case ("Div", true):
                guard !v.contains(0) else { throw fail("divides by zero") }
                try affine(node, x, scale: v.map { 1 / $0 }, shift: v.map { _ in 0 })
            default: throw fail("dividing a constant by the image's data is not supported")
            }
        default:
            throw fail("cannot combine its inputs")
        }
    }

    /// A constant as one value per channel of `x`: a scalar, (C, 1, 1) for maps, (F) for vectors (leading 1s allowed).
    func perChannel(_ c: ONNXConstant, of x: Flow) throws -> [Double] {
        guard c.batch.isEmpty else { throw fail("its constant depends on the batch size") }
        var shape = c.shape
        while shape.first == 1 && shape.count > x.shape.count { shape.removeFirst() }
        let channels = x.shape[0]
        if c.count == 1 { return [Double](repeating: c.values[0], count: channels) }
        let fits = x.isMap ? (shape == [channels, 1, 1]) : (shape == [channels])
        guard fits else {
            throw fail("constant of shape \(c.shape) for data of shape \(x.shape); only per-channel constants (\(x.isMap ? "(C, 1, 1)" : "(F)")) are supported")
        }
        return c.values
    }

    mutating func concat(_ node: ONNXGraph.Node) throws {
        guard let axis = int(node, "axis") else { throw fail("has no axis") }
        var inputs: [Flow] = []
        for i in node.inputs.indices { inputs.append(try plainFlow(node, i)) }
        guard let first = inputs.first else { throw fail("has no inputs") }
        let rank = first.shape.count + 1
        guard axis == 1 || axis == 1 - Int64(rank) else { throw fail("axis \(axis); only the channel axis (1) is supported") }
        for x in inputs where x.shape.count != first.shape.count || x.shape.dropFirst() != first.shape.dropFirst() {
            throw fail("inputs of shapes \(first.shape) and \(x.shape) differ beyond the channel axis")
        }
        emit(node, .concat, inputs: inputs.map(\.node), shape: [inputs.reduce(0) { $0 + $1.shape[0] }] + first.shape.dropFirst())
    }

    // MARK: Pooling and reshaping

    mutating func pool(_ node: ONNXGraph.Node) throws {
        let x = try plainFlow(node)
        guard x.isMap else { throw fail("its input is not a map") }
        if node.outputs.count > 1, let indices = node.outputs.last, readers[indices, default: 0] > 0 { throw fail("its Indices output is read") }
        let ks = try bounded(node, "kernel_shape", 1...(1 << 16), default: [])
        guard ks.count == 2, ks[0] == ks[1] else { throw fail("kernel_shape \(ks); only square 2-D windows are supported") }
        let strides = try bounded(node, "strides", 1...(1 << 16), default: [1, 1])
        guard strides.count == 2, strides[0] == strides[1] else { throw fail("strides \(strides); only equal strides are supported") }
        guard try bounded(node, "dilations", 1...1, default: [1, 1]).count == 2 else { throw fail("dilations must be [1, 1]") }
        let (k, s) = (ks[0], strides[0])
        let p = try padding(node, input: x, kernel: k, stride: s, dilation: 1)
        guard p.isSymmetric else { throw fail("pads \(p); only equal pads on every side are supported for pooling") }
        guard 2 * p.top <= k else { throw fail("padding \(p.top) is more than half the \(k)x\(k) window") }
        let ceil = (int(node, "ceil_mode") ?? 0) != 0
        func outSize(_ n: Int) -> Int {
            let span = n + 2 * p.top - k
            var o = (ceil ? (span + s - 1) / s : span / s) + 1
            if ceil, (o - 1) * s >= n + p.top { o -= 1 }
            return o
        }
        guard x.shape[1] + 2 * p.top >= k, x.shape[2] + 2 * p.top >= k else { throw fail("its \(k)x\(k) window does not fit the \(x.shape[1])x\(x.shape[2]) input") }
        let kind: LayerKind = node.opType == "MaxPool"
            ? .maxPool(kernel: k, stride: s, padding: p.top, ceilMode: ceil)
            : .avgPool(kernel: k, stride: s, padding: p.top, ceilMode: ceil, countIncludePad: (int(node, "count_include_pad") ?? 0) != 0)
        if node.opType == "MaxPool", (int(node, "storage_order") ?? 0) != 0 { throw fail("storage_order 1 is not supported") }
        emit(node, kind, inputs: [x.node], shape: [x.shape[0], outSize(x.shape[1]), outSize(x.shape[2])])
    }

    /// Flatten of a map: a flatten node; of a map in NHWC, the same node with its features marked as (h, w, c).
    mutating func flatten(_ node: ONNXGraph.Node) throws {
        var x = try flow(node)
        var order: Pending?
        if case .nhwc? = x.pending { order = .hwcFeatures(c: x.shape[0], h: x.shape[1], w: x.shape[2]); x.pending = nil }
        try materialize(&x, for: "\(node.opType) '\(node.label)'")
        let features = x.shape.reduce(1, *)
        emit(node, .flatten, inputs: [x.node], shape: [features])
        if let order, case .flow(var f)? = values[node.outputs[0]] {
            // The ONNX value lists the features as (h, w, c); the node's are (c, h, w), so it keeps only its path.
            layers[f.node].aliases = []
            f.pending = order
            set(node, .flow(f))
        }
    }

    /// Reshape to (N, -1) (or (N, C*H*W)): a flatten. The target shape is shape arithmetic, folded by now.
    mutating func reshape(_ node: ONNXGraph.Node) throws {
        let x = try flow(node)
        let target = try requireConstant(node, 1, "shape")
        let dims: [Int?]
        do { dims = try target.ints(allowingBatch: true) } catch let p as ConstantProblem { throw fail("its shape \(p.reason)") }
        let features = x.shape.reduce(1, *)
        let batchOK = dims.first.map { $0 == nil || $0 == 0 || $0 == 1 || $0 == -1 } ?? false
        guard dims.count == 2, batchOK, dims[1] == -1 || dims[1] == features, !(dims[0] == -1 && dims[1] == -1) else {
            throw fail("to \(dims.map { $0.map(String.init) ?? "N" }) from \(x.shape.count == 3 ? "(N, C, H, W)" : "(N, F)") \(x.shape); only Reshape to (N, -1) is supported")
        }
        try flatten(node)
    }

    /// Squeeze of the 1x1 spatial axes after a global pool: a flatten.
    mutating func squeeze(_ node: ONNXGraph.Node) throws {
        let x = try flow(node)
        let axes: [Int]
        if let name = input(node, 1) {
            guard let c = try constant(name) else { throw fail("its axes must be constant") }
            axes = try c.knownInts()
        } else { axes = (ints(node, "axes") ?? []).map(Int.init) }
        guard x.isMap, x.shape[1...] == [1, 1], Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] else {
            throw fail("axes \(axes) of shape \(x.shape); only squeezing the 1x1 spatial axes of (N, C, 1, 1) is supported")
        }
        try flatten(node)
    }

    mutating func transpose(_ node: ONNXGraph.Node) throws {
        guard let name = input(node, 0) else { throw fail("has no input") }
        let perm = ints(node, "perm") ?? []
        switch try value(name) {
        case let .nhwcInput(h, w):
            // tf2onnx's NHWC input transposed to NCHW: the network's own input.
            guard perm == [0, 3, 1, 2] else { throw fail("perm \(perm) on the NHWC input; only [0, 3, 1, 2] is supported") }
            set(node, .flow(Flow(node: Layer.image, shape: [3, h, w])))
        case .flow(let x) where x.isMap && x.pending == nil && perm == [0, 2, 3, 1]:
            var y = x
            y.pending = .nhwc
            set(node, .flow(y))
        case .flow(let x) where perm == Array(0..<Int64(x.shape.count + 1)):
            set(node, .flow(x))
        default:
            throw fail("perm \(perm); only NHWC -> NCHW at the input and NCHW -> NHWC before a flatten are supported")
        }
    }

    // MARK: Classifier

    /// Gemm (transA 0, alpha = beta = 1) or MatMul of features by a constant matrix: a linear node. A pending
    /// scale/shift on its input folds into its weight and bias; NHWC-ordered features permute its columns.
    mutating func linear(_ node: ONNXGraph.Node) throws {
        var x = try flow(node)
        guard !x.isMap else { throw fail("its input is a map (N, C, H, W); Flatten it first") }
        let (bShape, b) = try weight(node, 1, "weight")
        guard bShape.count == 2 else { throw fail("weight of shape \(bShape); a 2-D matrix is needed") }
        var transB = false
        if node.opType == "Gemm" {
            guard (int(node, "transA") ?? 0) == 0 else { throw fail("transA 1 is not supported") }
            guard (float(node, "alpha") ?? 1) == 1, (float(node, "beta") ?? 1) == 1 else { throw fail("alpha and beta must be 1") }
            transB = (int(node, "transB") ?? 0) != 0
        }
        let (fin, fout) = transB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
        guard fin == x.shape[0] else { throw fail("weight \(bShape) takes \(fin) features, but its input has \(x.shape[0])") }
        // (out, in) row-major; `column(i)` is where ONNX feature i sits in our node's (c, h, w) order.
        var column = Array(0..<fin)
        if case let .hwcFeatures(c, h, w)? = x.pending {
            for hh in 0..<h { for ww in 0..<w { for cc in 0..<c { column[(hh * w + ww) * c + cc] = (cc * h + hh) * w + ww } } }
            x.pending = nil
        }
        var scale = [Double](repeating: 1, count: fin), shift = [Double](repeating: 0, count: fin)
        if case let .affine(s, t, _, _)? = x.pending { scale = s; shift = t; x.pending = nil }
        try materialize(&x, for: "\(node.opType) '\(node.label)'")
        var matrix = [Float](repeating: 0, count: fout * fin), bias = [Double](repeating: 0, count: fout)
        for o in 0..<fout {
            var extra = 0.0
            for i in 0..<fin {
                let v = Double(transB ? b[o * fin + i] : b[i * fout + o])
                matrix[o * fin + column[i]] = Float(v * scale[i])
                extra += v * shift[i]
            }
            bias[o] = extra
        }
        if node.opType == "Gemm", input(node, 2) != nil {
            let (cShape, c) = try weight(node, 2, "bias")
            guard c.count == fout || c.count == 1 else { throw fail("bias of shape \(cShape) for \(fout) outputs") }
            for o in 0..<fout { bias[o] += Double(c.count == 1 ? c[0] : c[o]) }
        }
        emit(node, .linear(inFeatures: fin, outFeatures: fout), inputs: [x.node], shape: [fout])
        parameters["\(node.label).weight"] = Tensor(shape: [fout, fin], storage: matrix)
        parameters["\(node.label).bias"] = Tensor(shape: [fout], storage: bias.map(Float.init))
    }

    mutating func softmax(_ node: ONNXGraph.Node) throws {
        let x = try plainFlow(node)
        let axis = int(node, "axis") ?? (graph.opset >= 13 ? -1 : 1)
        guard !x.isMap, axis == 1 || axis == -1 else { throw fail("axis \(axis) on shape \(x.shape); only over the features of (N, F) is supported") }
        emit(node, .softmax, inputs: [x.node], shape: x.shape)
    }

    /// A constant zero Pad of H and W, kept pending for the conv that reads it.
    mutating func pad(_ node: ONNXGraph.Node) throws {
        var x = try flow(node)
        guard (string(node, "mode") ?? "constant") == "constant" else { throw fail("mode '\(string(node, "mode") ?? "")'; only constant (zero) padding is supported") }
        let pads: [Int]
        if let p = ints(node, "pads") { pads = try p.map { try ONNXConstant.int(Double($0)) } }
        else { pads = try requireConstant(node, 1, "pads").knownInts() }
        var value = Double(float(node, "value") ?? 0)
        if input(node, 2) != nil {
            let c = try requireConstant(node, 2, "constant value")
            value = c.values.first ?? 0
        }
        if input(node, 3) != nil { throw fail("its axes input is not supported") }
        guard value == 0 else { throw fail("pads with \(value); only zero padding is supported") }
        guard x.isMap, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
            throw fail("pads \(pads); only non-negative padding of H and W of (N, C, H, W) is supported")
        }
        var p = Padding(top: pads[2], bottom: pads[6], left: pads[3], right: pads[7])
        if case .pad(let q, _)? = x.pending { p.top += q.top; p.bottom += q.bottom; p.left += q.left; p.right += q.right; x.pending = nil }
        try materialize(&x, for: "Pad '\(node.label)'")
        x.shape = [x.shape[0], x.shape[1] + p.top + p.bottom, x.shape[2] + p.left + p.right]
        x.pending = .pad(p, label: node.label)
        set(node, .flow(x))
    }

    // MARK: Constant folding

    /// Folds a node whose inputs are all constants (or the Shape of a flow) into a constant; false if it is not one.
    mutating func foldIfConstant(_ node: ONNXGraph.Node) throws -> Bool {
        let names = node.inputs.filter { !$0.isEmpty }
        if node.opType == "Shape", let name = names.first, case .flow(let x)? = values[name] {
            var shape = x.shape
            if case .nhwc? = x.pending { shape = [x.shape[1], x.shape[2], x.shape[0]] }  // (N, H, W, C)
            let dims = ONNXConstant(shape: [shape.count + 1], values: [0] + shape.map(Double.init), batch: [0])
            do { set(node, .constant(try sliceShape(node, dims))) } catch let p as ConstantProblem { throw fail(p.reason) }
            return true
        }
        if node.opType == "Identity", let name = names.first, case .tensor(let t)? = values[name] {
            set(node, .tensor(t))  // a weight passed on (exporters dedupe equal initializers this way)
            return true
        }
        var inputs: [ONNXConstant] = []
        for name in names {
            switch values[name] {
            case .constant(let c)?: inputs.append(c)
            case .tensor(let t)?:
                guard t.count <= ONNXConstant.limit else { return false }  // a weight, not shape arithmetic
                guard let c = try constant(name) else { return false }
                inputs.append(c)
            default: return false
            }
        }
        guard !inputs.isEmpty else { return false }
        do {
            set(node, .constant(try fold(node, inputs)))
        } catch let p as ConstantProblem {
            throw fail("cannot fold its constant inputs: \(p.reason)")
        }
        return true
    }

    /// Shape's start/end attributes (opset 15).
    func sliceShape(_ node: ONNXGraph.Node, _ dims: ONNXConstant) throws -> ONNXConstant {
        guard node.attributes["start"] != nil || node.attributes["end"] != nil else { return dims }
        return try dims.sliced(starts: [Int(int(node, "start") ?? 0)], ends: [Int(Swift.min(int(node, "end") ?? Int64(dims.count), 1 << 20))],
                               axes: nil, steps: nil)
    }

    func fold(_ node: ONNXGraph.Node, _ x: [ONNXConstant]) throws -> ONNXConstant {
        let a = x[0]
        let needsTwo = ["Gather", "Reshape", "Add", "Sub", "Mul", "Div"]
        guard !needsTwo.contains(node.opType) || x.count >= 2 else { throw ConstantProblem("\(node.opType) needs two inputs") }
        func axesInput() throws -> [Int] {
            if x.count > 1 { return try x[1].knownInts() }
            return (ints(node, "axes") ?? []).map(Int.init)
        }
        switch node.opType {
        case "Identity", "Dropout": return a
        case "Cast":
            let to = int(node, "to") ?? 1
            // Integer types truncate; float types keep the value (shape arithmetic is exact in Double).
            guard [1, 10, 11, 16].contains(to) else {
                var out = a
                out.values = a.values.map { $0.rounded(.towardZero) }
                return out
            }
            return a
        case "Shape": return try sliceShape(node, ONNXConstant(shape: [a.shape.count], values: a.shape.map(Double.init)))
        case "Gather": return try a.gathered(x[1], axis: Int(int(node, "axis") ?? 0))
        case "Unsqueeze":
            var shape = a.shape
            let rank = shape.count + (try axesInput()).count
            for axis in try axesInput().map({ $0 < 0 ? $0 + rank : $0 }).sorted() {
                guard axis >= 0, axis <= shape.count else { throw ConstantProblem("Unsqueeze axis \(axis) outside rank \(rank)") }
                shape.insert(1, at: axis)
            }
            var out = a; out.shape = shape; return out
        case "Squeeze":
            let axes = try axesInput().map { $0 < 0 ? $0 + a.shape.count : $0 }
            var out = a
            out.shape = a.shape.enumerated().filter { axes.isEmpty ? $0.element != 1 : !axes.contains($0.offset) }.map(\.element)
            guard out.shape.reduce(1, *) == a.count else { throw ConstantProblem("Squeeze of a dimension that is not 1") }
            return out
        case "Concat": return try ONNXConstant.concatenated(x, axis: Int(int(node, "axis") ?? 0))
        case "Reshape": return try a.reshaped(try x[1].knownInts())
        case "Transpose": return try a.transposed((ints(node, "perm") ?? []).map(Int.init))
        case "Slice":
            if x.count == 1 {
                return try a.sliced(starts: (ints(node, "starts") ?? []).map(Int.init), ends: (ints(node, "ends") ?? []).map { Int(clamping: $0) },
                                    axes: ints(node, "axes").map { $0.map(Int.init) }, steps: nil)
            }
            guard x.count >= 3 else { throw ConstantProblem("Slice needs starts and ends") }
            let inputs = node.inputs
            func optional(_ i: Int) throws -> [Int]? {
                guard i < inputs.count, !inputs[i].isEmpty else { return nil }
                return try x[inputs[..<i].filter { !$0.isEmpty }.count].clampedInts()
            }
            return try a.sliced(starts: try x[1].clampedInts(), ends: try x[2].clampedInts(), axes: try optional(3), steps: try optional(4))
        case "ConstantOfShape":
            let shape = try a.knownInts()
            let count = try ONNXConstant.elementCount(shape)
            var fill = 0.0
            if case .tensor(let t)? = node.attributes["value"] { fill = try ONNXConstant(t).values.first ?? 0 }
            return ONNXConstant(shape: shape, values: [Double](repeating: fill, count: count))
        case "Add": return try ONNXConstant.combined(a, x[1], +)
        case "Sub": return try ONNXConstant.combined(a, x[1], -)
        case "Mul": return try ONNXConstant.combined(a, x[1], *)
        case "Div":
            let integer = (try? a.knownInts()) != nil && (try? x[1].knownInts()) != nil
            return try ONNXConstant.combined(a, x[1]) { integer ? ($0 / $1).rounded(.towardZero) : $0 / $1 }
        default:
            throw ConstantProblem("op '\(node.opType)' on constants is not supported; supported: \(supportedONNXOps.joined(separator: ", "))")
        }
    }
}
