/* testing.h -- what every CUnit suite of softlin shares.
 *
 * Each test file defines one register function, called by run_tests.c;
 * it adds one suite (the module it tests) and one test per property.
 * Tolerances are named, in multiples of DBL_EPSILON where they bound
 * rounding, and failing values are printed with %a so they can be replayed.
 */
#ifndef SOFTLIN_TESTING_H
#define SOFTLIN_TESTING_H

#include <CUnit/CUnit.h>

/* Paths given to run_tests on its command line. */
extern const char *testing_softlin_path; /* the softlin binary */
extern const char *testing_data_dir;     /* tests/data */

/* Add a test to suite s, stopping the run if CUnit cannot. */
void testing_add(CU_pSuite s, const char *name, CU_TestFunc fn);

/* ---- Running the softlin binary (testing_run.c) ----------------------- */

/* Most arguments a run takes, argv[0] excluded. */
#define TESTING_RUN_MAX_ARGS 14

/* What one run of softlin left. */
typedef struct testing_run {
    int status; /* exit status; -1 if it did not exit normally */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
} testing_run;

/* Run testing_softlin_path with the NULL-terminated args (argv[0]
 * excluded), capturing its output; free with testing_run_free. */
void testing_run_softlin(testing_run *res, const char *const *args);
void testing_run_free(testing_run *res);

/* s is exactly one non-empty line, newline included. */
int testing_one_line(const char *s);

void register_linalg_suite(void);
void register_softmax_suite(void);
void register_attention_suite(void);
void register_stream_suite(void);
void register_linear_suite(void);
void register_limit_suite(void);
void register_gradient_suite(void);
void register_gradcheck_suite(void);
void register_rng_suite(void);
void register_normal_fast_suite(void);
void register_gauss_suite(void);
void register_params_suite(void);
void register_cli_suite(void);
void register_law_suite(void);
void register_measure_suite(void);
void register_engine_suite(void);
void register_oracle_suite(void);
void register_arb_suite(void);
void register_exact_suite(void);
void register_accuracy_suite(void);
void register_oracle_cli_suite(void);
void register_stats_suite(void);
void register_report_suite(void);
void register_gate_suite(void);
void register_train_icl_suite(void);
void register_train_suite(void);

#endif
