-- The records' tables as the bot made them at schema version 1, before it used Alembic
-- (dumped from a database it made). The meta row is the test's to insert.
CREATE TABLE meta (
	id INTEGER NOT NULL, 
	schema_version INTEGER NOT NULL, 
	pseudonym_salt BLOB NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE replies (
	id TEXT NOT NULL, 
	question TEXT NOT NULL, 
	answered BOOLEAN NOT NULL, 
	corpus_version TEXT NOT NULL, 
	guild_id BIGINT, 
	channel_id BIGINT, 
	asker TEXT, 
	at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX replies_at ON replies (at);
CREATE INDEX replies_asker ON replies (asker);
CREATE TABLE votes (
	reply_id TEXT NOT NULL, 
	voter TEXT NOT NULL, 
	helpful BOOLEAN NOT NULL, 
	at FLOAT NOT NULL, 
	PRIMARY KEY (reply_id, voter), 
	FOREIGN KEY(reply_id) REFERENCES replies (id) ON DELETE CASCADE
);
CREATE INDEX votes_at ON votes (at);
CREATE INDEX votes_voter ON votes (voter);
CREATE TABLE citations (
	reply_id TEXT NOT NULL, 
	n INTEGER NOT NULL, 
	article_id TEXT NOT NULL, 
	paragraph INTEGER NOT NULL, 
	start INTEGER NOT NULL, 
	"end" INTEGER NOT NULL, 
	quote TEXT NOT NULL, 
	PRIMARY KEY (reply_id, n), 
	FOREIGN KEY(reply_id) REFERENCES replies (id) ON DELETE CASCADE
);
