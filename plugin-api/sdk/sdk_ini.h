/*
** sdk_ini.h -- a reader for the INI files cloud tools keep their
** credentials and profiles in: the AWS shared files (~/.aws/credentials,
** ~/.aws/config) and OCI's ~/.oci/config.
**
** The format: "[section]" headers, "key = value" lines (blanks around both
** trimmed), full-line comments starting with '#' or ';', and nested blocks
** ("s3 =" with an empty value, followed by indented "key = value" lines,
** read as "s3.key"). Keys before the first section header belong to the
** section "". Other lines are ignored, as botocore does. Keys are compared
** without regard to case, as botocore's configparser does; section names
** exactly, with runs of blanks made one ("[profile  dev]" is "profile
** dev"). A key given twice keeps its last value. Values are returned as
** written: nothing is unquoted or expanded.
*/
#ifndef SDK_INI_H
#define SDK_INI_H

typedef struct sdk_ini sdk_ini;

/* Read the file at path (at most 1 MiB). 0 with *out set, or *out NULL
 * when the file does not exist (not an error: most such files are
 * optional). -1 with errno set and *out NULL when it cannot be read
 * (errno from fopen), is larger than 1 MiB (EFBIG), fails to read (EIO)
 * or memory runs out (ENOMEM). Free *out with sdk_ini_free. */
int sdk_ini_load(const char *path, sdk_ini **out);

/* The value of key in section (the last one given), or NULL when there is
 * none or ini is NULL. The string belongs to ini. */
const char *sdk_ini_get(const sdk_ini *ini, const char *section,
                        const char *key);

/* Non-zero when the section has at least one key (0 for a NULL ini). */
int sdk_ini_has_section(const sdk_ini *ini, const char *section);

/* Free everything sdk_ini_load made. NULL is fine. */
void sdk_ini_free(sdk_ini *ini);

#endif /* SDK_INI_H */
