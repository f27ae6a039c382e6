/* profile.h - an employee's normalized profile, built from Gusto's list
 * entry (and, when the entry lacks them, parts fetched per employee), its
 * content hash, and field-level diffs with sensitive values masked.
 *
 * The profile is a JSON object with fixed keys:
 *   employee_uuid, first_name, middle_initial, last_name,
 *   preferred_first_name, work_email, personal_email, phone, employee_code,
 *   job_title, department, department_uuid, manager_uuid, hire_date,
 *   employment_status ("active", "onboarding", "terminated"),
 *   employment_type (Gusto's current_employment_status), onboarding_status,
 *   termination_date (the termination in effect, or a scheduled one),
 *   work_location {location_uuid, street_1, street_2, city, state, zip,
 *   country}, home_address {street_1, street_2, city, state, zip, country},
 *   compensation {rate, payment_unit, flsa_status, effective_date} (null
 *   when the token cannot read compensations), time_off {POLICY_UUID:
 *   {policy_name, name, balance_hours}}, custom_fields {NAME: VALUE}.
 * Absent facts are null.  home_address.* and compensation.* are sensitive:
 * events carry them masked. */
#ifndef GUSTO_SYNC_PROFILE_H
#define GUSTO_SYNC_PROFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Build the profile of a list entry.  extra: {"work_address": {...}} fetched
 * per employee, or NULL.  Returns a new reference, NULL when the entry has
 * no uuid. */
json_t *profile_build(const json_t *entry, const json_t *extra);

/* Does the entry lack what only a per-employee request can give (the work
 * location, when no job carries one)? */
bool profile_needs_work_address(const json_t *entry);

/* The extra part for a GET /v1/employees/{id}/work_addresses answer: the
 * active work address, as {"work_address": {...}}.  New reference. */
json_t *profile_extra_from_work_addresses(const json_t *list);

/* Canonical text (sorted keys, compact); malloc'd. */
char *profile_canonical(const json_t *profile);

/* SHA-256 of data as 64 hex digits. */
void sha256_hex(const void *data, size_t len, char out[65]);

/* "active", "onboarding" or "terminated". */
const char *profile_status(const json_t *profile);

/* Every changed leaf as [{"field": "work_location.city", "old": ..., "new":
 * ...}], sorted by field; sensitive values are "***" (and "masked": true).
 * old may be NULL (everything is new).  New reference. */
json_t *profile_diff(const json_t *old, const json_t *new_profile);

/* A copy with sensitive values replaced by "***".  New reference. */
json_t *profile_masked(const json_t *profile);

/* "Preferred Last" or "First Last". */
void profile_display_name(const json_t *profile, char *out, size_t cap);

#endif
