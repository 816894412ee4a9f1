/* libFuzzer target: the config parsers (src/config.c): JSON bodies, java.util.Properties text,
 * ${env:NAME} references, then validation and every typed check of what was parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/config.h"
#include "../../src/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Unknown-key warnings on every input would drown the fuzzer's own output. */
    log_setup(LOG_ERROR, false);
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct config *cfg;
    struct error err;
    if (config_parse(text, "fuzz", &cfg, &err) == 0) {
        (void)config_validate(cfg, &err);
        config_free(cfg);
    }
    free(text);
    return 0;
}
