/* SCAFFOLD: replaced by the MySQL reader's owner; it only keeps the tree linking meanwhile. */
#include "decode.h"

#include <stdio.h>

int decode_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dbtail decode: not built yet\n");
    return 1;
}
