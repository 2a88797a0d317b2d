import Foundation

/// One named tensor of a checkpoint: dtype, shape and its contiguous little-endian bytes.
///
/// `data` may be a slice of a memory-mapped file; it is never copied until asked for values.
public struct CheckpointTensor: Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Row-major (C order) little-endian element bytes; `count * dtype.size` of them.
    public var data: Data

    /// Validates that `data` holds exactly the elements `shape` describes.
    public init(name: String, dtype: DType, shape: [Int], data: Data) throws {
        let needed = try tensorByteCount(shape, dtype, name: name)
        guard needed == data.count else {
            throw CheckpointError.tensor(name, .byteCountMismatch(shape: shape, dtype: dtype.rawValue, needed: needed,
                                                                  stored: data.count))
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// A float32 tensor from values (row-major).
    public init(name: String, shape: [Int], floats: [Float]) throws {
        let bytes = floats.withUnsafeBufferPointer { Data(buffer: $0) }
        try self.init(name: name, dtype: .f32, shape: shape, data: bytes)
    }

    /// Number of elements (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    /// Number of stored bytes.
    public var byteCount: Int { data.count }

    /// The values as Float, converted from any dtype (f16/bf16/f64 rounded to nearest; integers and bools
    /// converted exactly up to 2^24).
    public func floats() throws -> [Float] {
        let n = count
        guard n.multipliedReportingOverflow(by: dtype.size) == (data.count, false) else {
            throw CheckpointError.tensor(name, .byteCountMismatch(shape: shape, dtype: dtype.rawValue,
                                                                  needed: nil, stored: data.count))
        }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            data.withUnsafeBytes { raw in
                switch dtype {
                case .f32: for i in 0..<n { out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
                case .f16: for i in 0..<n { out[i] = halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
                case .bf16: for i in 0..<n { out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
                case .f64: for i in 0..<n { out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
                case .i64: for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
                case .i32: for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                case .i16: for i in 0..<n { out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
                case .i8: for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[i])) }
                case .u8: for i in 0..<n { out[i] = Float(raw[i]) }
                case .bool: for i in 0..<n { out[i] = raw[i] == 0 ? 0 : 1 }
                }
            }
            initialized = n
        }
    }

    /// The number of NaN and infinite values (0 for integer and bool tensors).
    public func nonFiniteCount() throws -> Int {
        guard dtype.isFloatingPoint else { return 0 }
        return try floats().reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
    }

    /// The values as Float, refusing NaN and infinities with an error naming the tensor and how many there are.
    public func finiteFloats() throws -> [Float] {
        let values = try floats()
        let bad = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        guard bad == 0 else { throw CheckpointError.tensor(name, .nonFinite(count: bad, total: values.count)) }
        return values
    }

    /// The same values as a float32 tensor (itself when already f32).
    public func toFloat32() throws -> CheckpointTensor {
        dtype == .f32 ? self : try CheckpointTensor(name: name, shape: shape, floats: floats())
    }
}

/// IEEE 754 half (binary16) bits to Float, exactly (every half is a float).
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }  // inf / nan
    if exponent == 0 {  // zero or subnormal: mantissa * 2^-24
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
}

/// Tensors above this many elements are refused (2^37, 512 GiB of float32): no real checkpoint comes close, and
/// the bound keeps every byte count below 2^40.
let maxElements = Int(Int32.max) * 64

/// The product of `shape`, refusing negative dimensions and overflow.
func elementCount(_ shape: [Int], name: String) throws -> Int {
    // Negative dimensions first: a zero elsewhere must not hide one.
    guard shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.tensor(name, .negativeDimension(shape: shape)) }
    var count = 1
    for dim in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dim)
        guard !overflow, product <= maxElements else {
            throw CheckpointError.tensor(name, .tooManyElements(shape: shape, limit: maxElements))
        }
        count = product
    }
    return count
}

/// The bytes `shape` of `dtype` takes (cannot overflow: `elementCount` bounds the count far below Int.max / 8).
func tensorByteCount(_ shape: [Int], _ dtype: DType, name: String) throws -> Int {
    try elementCount(shape, name: name) * dtype.size
}

/// Contiguous row-major strides for `shape`. An empty shape may have dims whose product overflows
/// (`[0, 2^36, 2^36]` passes `elementCount`): its strides, never used to address anything, saturate at Int.max.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = step
        let (next, overflow) = step.multipliedReportingOverflow(by: shape[axis])
        step = overflow ? Int.max : next
    }
    return strides
}

/// The elements a (storage, offset, shape, strides) view selects, copied into row-major order.
///
/// Offset and strides count elements, as PyTorch's `_rebuild_tensor_v2` and numpy's Fortran order give them.
/// Contiguous views come back as a slice of `storage` without copying.
func materialize(storage: Data, dtype: DType, offset: Int, shape: [Int], strides: [Int], name: String) throws -> Data {
    guard strides.count == shape.count else {
        throw CheckpointError.tensor(name, .stridesDoNotMatchShape(strides: strides.count, dimensions: shape.count))
    }
    let count = try elementCount(shape, name: name)
    let size = dtype.size
    let storageCount = storage.count / size
    guard offset >= 0 else { throw CheckpointError.tensor(name, .negativeStorageOffset(offset)) }
    if count == 0 { return Data() }
    // The last element the view reaches must lie inside the storage.
    var last = offset
    for (dim, step) in zip(shape, strides) {
        guard step >= 0 else { throw CheckpointError.tensor(name, .negativeStride(strides: strides)) }
        let (reach, overflow) = (dim - 1).multipliedReportingOverflow(by: step)
        let (sum, sumOverflow) = last.addingReportingOverflow(reach)
        guard !overflow, !sumOverflow else { throw CheckpointError.tensor(name, .stridesOverflow(strides: strides)) }
        last = sum
    }
    guard last < storageCount else {
        throw CheckpointError.tensor(name, .viewOutsideStorage(shape: shape, strides: strides, offset: offset, lastElement: last,
                                                              storageElements: storageCount, dtype: dtype.rawValue))
    }
    let isContiguous = zip(zip(shape, strides), contiguousStrides(shape)).allSatisfy { $0.0.0 == 1 || $0.0.1 == $0.1 }
    let base = storage.startIndex + offset * size
    if isContiguous { return storage[base..<(base + count * size)] }

    var out = Data(count: count * size)
    out.withUnsafeMutableBytes { dstBuffer in
        storage.withUnsafeBytes { srcBuffer in
            // count > 0 and the storage reaches element `last`, so neither buffer is empty.
            guard let dst = dstBuffer.baseAddress, let src = srcBuffer.baseAddress else { return }
            var index = [Int](repeating: 0, count: shape.count)
            var source = offset
            for element in 0..<count {
                (dst + element * size).copyMemory(from: src + source * size, byteCount: size)
                // Odometer increment over the view's index, tracking the storage position.
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    source += strides[axis]
                    if index[axis] < shape[axis] { break }
                    source -= strides[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
    return out
}
