import GradFeatCLI

GradFeatCLI.main()
