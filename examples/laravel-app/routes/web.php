<?php
// Routes of the demo application.
