// The whole `gradfeat` command-line tool with probe-ext registered:
//     swift run -c release probe-ext train --extractor activation,probe-ext,gradfeat …
import Foundation
import GradFeat
import GradFeatCLI
import ProbeExt

do {
    try Plugins.shared.extractors.register(ProbeExtExtractor.plugin)
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
GradFeatCLI.main()
