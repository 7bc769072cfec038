import GradFeatCLI
await GradFeatCLI.main()
