import Foundation

/// COCO 2014 multi-label classification (Lin et al., 2014, "Microsoft COCO: Common Objects in
/// Context"), from an `instances_<split>.json` annotation file and a folder of images.
///
/// Each image's label row is multi-hot over the 80 categories: `1` when at least one instance of
/// the category is annotated, else `0` (COCO has no "difficult" flag; crowd regions count as
/// present). Category ids (1…90 with gaps) map to label indices in increasing id order, so
/// ``ImageSet/classNames`` lists the category names in that order. Images are ordered by image id.
public enum COCO {
    /// The parts of `instances_*.json` the loader needs.
    struct Instances: Decodable {
        struct Image: Decodable {
            let id: Int
            let file_name: String
        }
        struct Annotation: Decodable {
            let image_id: Int
            let category_id: Int
        }
        struct Category: Decodable {
            let id: Int
            let name: String
        }
        let images: [Image]
        let annotations: [Annotation]
        let categories: [Category]
    }

    /// Loads the images listed in an annotation file.
    ///
    /// - Parameters:
    ///   - annotations: path of `instances_<split>.json`.
    ///   - images: folder (or `.tar`/`.tar.gz`) holding the images under their `file_name`.
    ///   - split: split name; `nil` takes it from the file name (`instances_train2014.json` →
    ///     `train2014`).
    ///   - size: output image size (every image is resized to it).
    ///   - mode: how images are fitted to `size`.
    ///   - includeUnannotated: keep images without any instance (all-zero rows); COCO 2014 train
    ///     has about 700 of them.
    ///   - threads: decoding threads (`nil`: all active processors).
    /// - Throws: ``DatasetError/missingField(path:field:context:)`` naming the field and the JSON
    ///   file when a required field is absent; ``DatasetError/missingImage(list:id:expectedPath:)``
    ///   when a listed image is not in `images`.
    public static func load(
        annotations: String, images: String, split: String? = nil, size: ImageSize = ImageSize(224),
        mode: ImageResampler.ResizeMode = .stretch, includeUnannotated: Bool = true,
        threads: Int? = nil
    ) throws(DatasetError) -> ImageSet {
        try encoded(
            annotations: annotations, images: images, split: split, size: size, mode: mode,
            includeUnannotated: includeUnannotated, threads: threads
        ).decoded()
    }

    /// The split as ``load(annotations:images:split:size:mode:includeUnannotated:threads:)`` finds it, its images
    /// still encoded: decode them whole or a part at a time (``EncodedImageSet``).
    public static func encoded(
        annotations: String, images: String, split: String? = nil, size: ImageSize = ImageSize(224),
        mode: ImageResampler.ResizeMode = .stretch, includeUnannotated: Bool = true,
        threads: Int? = nil
    ) throws(DatasetError) -> EncodedImageSet {
        let instances = try readInstances(annotations)
        let categories = instances.categories.sorted { $0.id < $1.id }
        var categoryIndex: [Int: Int] = [:]
        for (i, category) in categories.enumerated() { categoryIndex[category.id] = i }
        var imageRow: [Int: Int] = [:]
        let sortedImages = instances.images.sorted { $0.id < $1.id }
        for (row, image) in sortedImages.enumerated() { imageRow[image.id] = row }
        let k = categories.count
        var flags = [Int8](repeating: 0, count: sortedImages.count * k)
        for (i, annotation) in instances.annotations.enumerated() {
            guard let row = imageRow[annotation.image_id] else {
                throw .malformed(
                    path: annotations, entry: "annotations[\(i)]",
                    reason: "image_id \(annotation.image_id) is not in 'images'")
            }
            guard let c = categoryIndex[annotation.category_id] else {
                throw .malformed(
                    path: annotations, entry: "annotations[\(i)]",
                    reason: "category_id \(annotation.category_id) is not in 'categories'")
            }
            flags[row * k + c] = 1
        }
        // Keep the wanted rows.
        var rows = Array(0..<sortedImages.count)
        if !includeUnannotated {
            rows = rows.filter { r in (0..<k).contains { flags[r * k + $0] != 0 } }
        }
        let wanted = Set(rows.map { sortedImages[$0].file_name })
        let tree = try FileTree(path: images)
        let bundle = try tree.load { relative in
            wanted.contains(relative) || wanted.contains((relative as NSString).lastPathComponent)
        }
        var byName: [String: Int] = [:]
        for (i, relative) in bundle.paths.enumerated() {
            byName[relative] = i
            byName[(relative as NSString).lastPathComponent] = byName[(relative as NSString).lastPathComponent] ?? i
        }
        var indices: [Int] = []
        indices.reserveCapacity(rows.count)
        for r in rows {
            let image = sortedImages[r]
            guard let index = byName[image.file_name] else {
                let place = tree.describe(image.file_name)
                throw .missingImage(
                    list: annotations, id: String(image.id),
                    expectedPath: place.entry.map { "\(place.path) [entry \($0)]" } ?? place.path)
            }
            indices.append(index)
        }
        var kept = [Int8](repeating: 0, count: rows.count * k)
        for (j, r) in rows.enumerated() {
            for c in 0..<k { kept[j * k + c] = flags[r * k + c] }
        }
        return try EncodedImageSet(
            bundle: bundle, tree: tree, files: indices, channels: 3, size: size, mode: mode,
            threads: threads ?? Parallel.defaultThreads, labels: .multi(kept),
            classNames: try ClassList.checked(categories.map(\.name), path: annotations),
            source: annotations, split: split ?? splitName(annotations))
    }

    /// `instances_train2014.json` → `train2014`.
    static func splitName(_ path: String) -> String {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return stem.hasPrefix("instances_") ? String(stem.dropFirst("instances_".count)) : stem
    }

    static func readInstances(_ path: String) throws(DatasetError) -> Instances {
        let bytes = try CompressedFile.read(path: path)
        do {
            return try JSONDecoder().decode(Instances.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            throw .missingField(path: path, field: key.stringValue, context: describe(context.codingPath))
        } catch let DecodingError.valueNotFound(_, context) {
            throw .missingField(
                path: path, field: context.codingPath.last?.stringValue ?? "?",
                context: describe(context.codingPath.dropLast()))
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformed(
                path: path, entry: describe(context.codingPath),
                reason: "wrong JSON type: \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw .malformed(
                path: path, entry: describe(context.codingPath),
                reason: "not valid JSON: \(context.debugDescription)")
        } catch {
            throw .malformed(path: path, entry: nil, reason: "\(error)")
        }
    }

    /// `images[3]`-style description of a coding path ("the top-level object" when empty).
    private static func describe(_ path: some Collection<any CodingKey>) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "the top-level object" : text
    }
}
