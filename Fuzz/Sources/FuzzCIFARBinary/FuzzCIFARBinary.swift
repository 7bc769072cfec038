// CIFAR-10 / CIFAR-100 binary record files (raw or gzip), with or without a class-name list beside them.
// Input: 4 choice bytes (variant, label kind, gzip, class list), then the record file.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        var choices = input.header(4)
        let variant: CIFARBinary.Variant = choices.bool() ? .cifar100 : .cifar10
        let labels: CIFARBinary.LabelKind = choices.bool() ? .coarse : .fine
        let compress = choices.bool()
        let list = choices.pick([nil, "", "a\nb\n", "\n \n", (0..<120).map(String.init).joined(separator: "\n")])
        if let list {
            for name in ["batches.meta.txt", "fine_label_names.txt", "coarse_label_names.txt"] {
                Scratch.write(Array(list.utf8), to: "cifar/" + name)
            }
        }
        var records = input.rest()
        attempt { try CIFARBinary.decodeRecords(records, variant: variant, labels: labels, name: "records") }
        if compress { records = Gzip.compress(records, level: 1) }
        let path = Scratch.write(records, to: "cifar/data_batch_1.bin")
        _ = try CIFARBinary.load(files: [path, path], variant: variant, labels: labels, split: "train")
    }
    return 0
}
