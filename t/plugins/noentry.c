/* noentry.c — a test-only shared object that is not a strata plugin: it
 * exports a function, but not strata_plugin_entry. */
int noentry_answer(void);

int noentry_answer(void)
{
    return 42;
}
