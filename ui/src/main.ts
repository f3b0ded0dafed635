import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { theme } from "./lib/theme.svelte";

theme.init();
mount(App, { target: document.getElementById("app")! });
