print("gradfeat")
