import Testing

@Test func placeholderVisualizationTests() { #expect(Bool(true)) }
