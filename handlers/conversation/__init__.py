"""The conversation: the dispatch table, the dialogue's states and steps, intake, commands, follow-up answers, media."""
