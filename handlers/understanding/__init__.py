"""Understanding what a resident wrote: the intent classifier, its keyword table, addresses, command words."""
