# relay: the reference relay server sotto-relay (server targets land with it).
include relay/rstore.mk
