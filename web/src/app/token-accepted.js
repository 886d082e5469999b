// The page a claimed API token leads to: the token now acts for the logged account, and the
// tool that asked for it can go on.
import { setupPage } from "./common.js";

setupPage("token");
