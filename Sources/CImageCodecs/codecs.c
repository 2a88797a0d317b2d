/* Placeholder: the codecs land here. */
#include "codecs.h"
int codecs_placeholder(void) { return 0; }
