// one_sdk.mjs - item 1d, class form: one Node process that makes one call,
// new GustoEmbedded(...).employees.get().  Args: BASE_URL TOKEN EMPLOYEE_UUID.
import { GustoEmbedded } from "@gusto/embedded-api";

const [serverURL, companyAccessAuth, employeeId] = process.argv.slice(2);
const gusto = new GustoEmbedded({ serverURL, companyAccessAuth });
const r = await gusto.employees.get({ employeeId });
if (r.employee.uuid !== employeeId) process.exit(1);
