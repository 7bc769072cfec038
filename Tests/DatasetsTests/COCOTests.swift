import Datasets
import Foundation
import Testing

@Suite("COCO")
struct COCOTests {
    private let json = """
        {"info": {"year": 2014},
         "images": [{"id": 42, "file_name": "b.jpg", "width": 10, "height": 6},
                    {"id": 7, "file_name": "a.png"},
                    {"id": 9, "file_name": "c.jpg"}],
         "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [0, 0, 1, 1]},
                         {"id": 2, "image_id": 7, "category_id": 90},
                         {"id": 3, "image_id": 42, "category_id": 1},
                         {"id": 4, "image_id": 42, "category_id": 1, "iscrowd": 1}],
         "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"},
                        {"id": 3, "name": "car"}]}
        """

    private func writeImages(_ folder: TemporaryFolder) throws {
        try folder.write(
            try ImageCodec.encodeJPEG(syntheticImage(seed: 1, height: 6, width: 10), width: 10, height: 6),
            to: "train2014/b.jpg")
        try folder.write(try ImageCodec.encodePNG(syntheticImage(seed: 2), width: 8, height: 8), to: "train2014/a.png")
        try folder.write(try ImageCodec.encodeJPEG(syntheticImage(seed: 3), width: 8, height: 8), to: "train2014/c.jpg")
    }

    @Test("Categories map in id order to multi-hot rows; images ordered by id")
    func multiHot() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try writeImages(folder)
        try folder.write(json, to: "annotations/instances_train2014.json")
        let set = try COCO.load(
            annotations: folder.file("annotations/instances_train2014.json"),
            images: folder.file("train2014"), size: ImageSize(height: 6, width: 5))
        #expect(set.split == "train2014")
        #expect(set.classNames == ["person", "car", "toothbrush"])
        #expect(set.count == 3 && set.height == 6 && set.width == 5)
        #expect(set.labels == .multi([0, 1, 1, 0, 0, 0, 1, 0, 0]))
        let annotatedOnly = try COCO.load(
            annotations: folder.file("annotations/instances_train2014.json"),
            images: folder.file("train2014"), size: ImageSize(4), includeUnannotated: false)
        #expect(annotatedOnly.count == 2)
        #expect(annotatedOnly.labelCounts == [1, 1, 1])
    }

    @Test("A JSON without a required field names the field and the file")
    func missingField() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try writeImages(folder)
        let broken = json.replacingOccurrences(of: "\"file_name\": \"a.png\"", with: "\"name\": \"a.png\"")
        try folder.write(broken, to: "instances_val2014.json")
        let path = folder.file("instances_val2014.json")
        #expect(throws: DatasetError.missingField(path: path, field: "file_name", context: "images[1]")) {
            try COCO.load(annotations: path, images: folder.file("train2014"))
        }
        let noCategories = json.replacingOccurrences(of: "\"categories\"", with: "\"cats\"")
        try folder.write(noCategories, to: "instances_val2014.json")
        #expect(throws: DatasetError.missingField(path: path, field: "categories", context: "the top-level object")) {
            try COCO.load(annotations: path, images: folder.file("train2014"))
        }
    }

    @Test("An image listed in the JSON but absent is reported")
    func missingImage() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try writeImages(folder)
        try FileManager.default.removeItem(atPath: folder.file("train2014/c.jpg"))
        try folder.write(json, to: "instances_train2014.json")
        #expect(
            throws: DatasetError.missingImage(
                list: folder.file("instances_train2014.json"), id: "9",
                expectedPath: folder.file("train2014/c.jpg"))
        ) {
            try COCO.load(annotations: folder.file("instances_train2014.json"), images: folder.file("train2014"))
        }
    }
}
