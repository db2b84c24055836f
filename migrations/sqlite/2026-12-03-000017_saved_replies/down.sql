DROP TABLE saved_reply_texts;
DROP TABLE saved_replies;
