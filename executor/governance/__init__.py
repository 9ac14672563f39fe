"""Controls a data platform team asks for before a whole company may reach the bot: whose
database identity a question runs as (`identity`, `credentials`, `per_user`)."""
