// Adds the cdktf matchers (toHaveResource, toBeValidTerraform, ...) to expect.
import 'cdktf/lib/testing/adapters/jest';
