<?php
namespace App\Http;

class Kernel {}
