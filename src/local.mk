# The sotto program (client engine, CLI, frontends).
bin_PROGRAMS += sotto
sotto_SOURCES = src/main.c
sotto_LDADD = libsottoutil.a
