/* run_tests.c -- the single CUnit runner of softlin.
 *
 * Usage: run_tests [--softlin PATH] [--data DIR] [SUITE [TEST]]
 * Runs every suite, or one suite, or one test of it, and prints CUnit's
 * run summary.  Exit status 0 when every assertion passed, 1 otherwise,
 * 2 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "testing.h"

const char *testing_softlin_path = "softlin";
const char *testing_data_dir = "tests/data";

void testing_add(CU_pSuite s, const char *name, CU_TestFunc fn)
{
    if (s == NULL || CU_add_test(s, name, fn) == NULL) {
        fprintf(stderr, "run_tests: cannot add test %s: %s\n", name,
                CU_get_error_msg());
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *suite = NULL, *test = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--softlin") == 0 && i + 1 < argc) {
            testing_softlin_path = argv[++i];
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            testing_data_dir = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "run_tests: unknown option %s\n", argv[i]);
            return 2;
        } else if (suite == NULL) {
            suite = argv[i];
        } else if (test == NULL) {
            test = argv[i];
        } else {
            fprintf(stderr, "run_tests: too many arguments\n");
            return 2;
        }
    }

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;

    register_linalg_suite();
    register_softmax_suite();
    register_attention_suite();
    register_stream_suite();
    register_linear_suite();
    register_limit_suite();
    register_gradient_suite();
    register_gradcheck_suite();
    register_rng_suite();
    register_normal_fast_suite();
    register_gauss_suite();
    register_params_suite();
    register_cli_suite();
    register_law_suite();
    register_measure_suite();
    register_engine_suite();
    register_oracle_suite();
    register_arb_suite();
    register_exact_suite();
    register_accuracy_suite();
    register_oracle_cli_suite();
    register_stats_suite();
    register_report_suite();
    register_gate_suite();
    register_train_icl_suite();
    register_train_suite();

    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (suite == NULL) {
        CU_basic_run_tests();
    } else {
        CU_pSuite s = CU_get_suite(suite);
        if (s == NULL) {
            fprintf(stderr, "run_tests: no suite %s\n", suite);
            CU_cleanup_registry();
            return 2;
        }
        if (test == NULL) {
            CU_basic_run_suite(s);
        } else {
            CU_pTest t = CU_get_test(s, test);
            if (t == NULL) {
                fprintf(stderr, "run_tests: no test %s in %s\n", test, suite);
                CU_cleanup_registry();
                return 2;
            }
            CU_basic_run_test(s, t);
        }
    }

    unsigned failed =
        CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed == 0 ? 0 : 1;
}
