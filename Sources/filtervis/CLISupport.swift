import ArgumentParser
import Foundation

/// A failed input or environment problem: printed as one line "filtervis: error: <message>", exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command body, turning any thrown error into one line on stderr and exit code 1 (usage errors are
/// ArgumentParser's, with exit code 2). Library errors already name the file or value and say how to fix it.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("filtervis: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
