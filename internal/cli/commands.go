package cli

// Commands returns every stage command, in pipeline order.
func Commands() []Command {
	return []Command{}
}
