// Arbiter's only script: progressive enhancements on top of htmx. Every page works without it.
"use strict";
