import Foundation
import TestSupport

/// Loads `Fixtures/<name>` of this test target (Scripts/fixtures/ writes them).
func loadFixtureCases(_ name: String) throws -> [FixtureCase] { try loadFixtureCases(name, in: .module) }
