import Testing

@Test func placeholderImageIOTests() { #expect(Bool(true)) }
