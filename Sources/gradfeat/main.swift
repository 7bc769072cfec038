// placeholder until the CLI lands
print("gradfeat: the command-line tool is being built; see README.md")
