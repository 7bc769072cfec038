// The Datasets module of GradFeat: loaders for the image-classification data sets the experiments use,
// deterministic transforms and seeded mini-batch iteration.
//
// Layout of this folder:
//   Core/        ImageSet (the in-memory data set), DatasetError, FileTree / FileBundle, parallel loop
//   Archive/     gzip (zlib), tar (ustar / GNU / pax) streaming reader, xz (liblzma, in process)
//   Images/      JPEG (libjpeg-turbo) and PNG (libpng) codecs, image-folder loader, resampling,
//                EncodedImageSet (a split still encoded, decoded whole or a part at a time)
//   CIFAR/       CIFAR-10 / CIFAR-100 official binary batches
//   MNIST/       MNIST / Fashion-MNIST IDX files
//   VOC/         PASCAL VOC 2007 multi-label classification
//   COCO/        COCO 2014 multi-label classification (instances_*.json)
//   SVHN/        SVHN cropped digits (MATLAB v5 .mat)
//   Transforms/  seeded RNG, resize / crop / flip, normalisation to Float, mini-batch iteration
//
// HDF5 caches of decoded sets are wired in by the GradFeat integration (this folder does not import
// HDF5). docs/DATASETS.md describes the formats, layouts and label encodings.
