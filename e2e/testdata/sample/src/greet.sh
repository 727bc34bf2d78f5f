# greet prints a greeting for its first argument.
greet() {
	printf 'Hello, %s! (hello %s)\n' "${1:-world}" "$HELLO_VERSION"
}
