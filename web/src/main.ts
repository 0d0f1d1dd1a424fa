import { ApiClient } from "./api/client";
import { App } from "./components/app";
import "./styles.css";

const root = document.getElementById("app");
if (root !== null) {
  const app = new App(new ApiClient());
  root.replaceChildren(app.element);
  void app.start();
}
