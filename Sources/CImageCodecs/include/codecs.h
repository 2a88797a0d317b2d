int codecs_placeholder(void);
