/// Runs `body` and captures its typed error in a `Result`, so it can cross `rethrows` APIs such as
/// `Array.withUnsafeMutableBytes` (which would widen the error to `any Error`).
@inline(__always)
func catching<R>(_ body: () throws(DatasetError) -> R) -> Result<R, DatasetError> {
    do throws(DatasetError) {
        return .success(try body())
    } catch {
        return .failure(error)
    }
}
