// The GradFeat module.
