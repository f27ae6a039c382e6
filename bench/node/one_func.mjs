// one_func.mjs - item 1d, standalone-function form: one Node process that makes one
// call, GustoEmbeddedCore plus employeesGet.  Args: BASE_URL TOKEN EMPLOYEE_UUID.
import { GustoEmbeddedCore } from "@gusto/embedded-api/core.js";
import { employeesGet } from "@gusto/embedded-api/funcs/employeesGet.js";

const [serverURL, companyAccessAuth, employeeId] = process.argv.slice(2);
const core = new GustoEmbeddedCore({ serverURL, companyAccessAuth });
const r = await employeesGet(core, { employeeId });
if (!r.ok || r.value.employee.uuid !== employeeId) process.exit(1);
