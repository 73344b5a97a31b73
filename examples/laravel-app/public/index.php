<?php
// Front controller: per release, never shared.
require __DIR__.'/../bootstrap/app.php';
