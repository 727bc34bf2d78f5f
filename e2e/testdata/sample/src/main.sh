# main: the program's entry point.
greet "$@"
