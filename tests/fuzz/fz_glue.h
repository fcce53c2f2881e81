/*
** fz_glue.h -- the providers' parsers as fuzz_json calls them.
*/
#ifndef FZ_GLUE_H
#define FZ_GLUE_H

#include "sdk_http.h"

void fz_gcs_error(const sdk_response *resp);
void fz_oci_error(const sdk_response *resp);

#endif
